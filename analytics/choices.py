from django.db import models
from django.utils.translation import gettext_lazy as _


class WarningStatus(models.TextChoices):
    RAISED = "raised", _("预警中")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    EXPIRED = "expired", _("已解除")


# A warning episode is open while raised or acknowledged: one open warning per grid and problem type.
OPEN_WARNING_STATUSES = (WarningStatus.RAISED, WarningStatus.ACKNOWLEDGED)


class GroupBy(models.TextChoices):
    STREET = "street", _("镇街")
    TEAM = "team", _("中队")
    OFFICER = "officer", _("队员")
    GRID = "grid", _("网格")
    PROBLEM_TYPE = "problem_type", _("问题类型")
    SOURCE = "source", _("来源")
    SEVERITY = "severity", _("等级")
    DAY = "day", _("日")
    WEEK = "week", _("周")
    MONTH = "month", _("月")


TIME_GROUPS = (GroupBy.DAY, GroupBy.WEEK, GroupBy.MONTH)
