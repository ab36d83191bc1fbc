from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    APPROVED = "approved", _("已批准")


class VisitKind(models.TextChoices):
    CONCENTRATED = "concentrated", _("集中检查")
    ONE_OFF = "one_off", _("专项检查")


class OneOffReason(models.TextChoices):
    NONE = "", _("无")
    COMPLAINT = "complaint", _("投诉")
    EVENT = "event", _("事件")
    EMERGENCY = "emergency", _("突发情况")


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("待检查")
    COMPLETED = "completed", _("已完成")


class DueReason(models.TextChoices):
    """Why a visit is in the plan: the credit effort rules (credit.effort.Due) plus the planner's own."""
    RED_REINSPECT = "red_reinspect", _("红色·定期复查")
    RED_NEIGHBOUR = "red_neighbour", _("红色·走访周边")
    YELLOW_PATROL = "yellow_patrol", _("黄色·例行巡查")
    YELLOW_LOOKBACK = "yellow_lookback", _("黄色·整改回头看")
    GREEN_SPOT_CHECK = "green_spot_check", _("绿色·随机抽查")
    REINSPECTION = "reinspection", _("整改复查")
    SCENARIO = "scenario", _("监管一件事场景")
    MANUAL = "manual", _("手工添加")
    ONE_OFF = "one_off", _("专项检查")


class Result(models.TextChoices):
    PASS = "pass", _("合格")
    FAIL = "fail", _("不合格")
    NA = "na", _("不适用")


class RectificationKind(models.TextChoices):
    NONE = "", _("无需整改")
    ON_THE_SPOT = "on_the_spot", _("当场整改")
    DEADLINE = "deadline", _("限期整改")


class RectificationStatus(models.TextChoices):
    NONE = "", _("无")
    OPEN = "open", _("整改中")
    OVERDUE = "overdue", _("已逾期")
    DONE = "done", _("已整改")


class UnscheduledWhy(models.TextChoices):
    """Why the planner could not place a due subject (it stays with the plan as unscheduled)."""
    CAP = "cap", _("本月各工作日相关检查人员均已达每日上限")
    NO_OFFICERS = "no_officers", _("本街道没有检查人员")
