from django.db import models
from django.utils.translation import gettext_lazy as _

from enforcement.choices import Severity  # noqa: F401  (re-exported)


class Source(models.TextChoices):
    CITIZEN = "citizen", _("群众上报")
    GRID_WORKER = "grid_worker", _("网格员")
    COLLECTOR = "collector", _("城管信息采集员")
    SENSOR = "sensor", _("物联感知")
    AI_CAMERA = "ai_camera", _("AI视频")
    DRONE = "drone", _("无人机")
    HOTLINE_12345 = "hotline_12345", _("12345热线")
    INSPECTION = "inspection", _("检查发现")
    PLATFORM = "platform", _("其他平台")


# One enumeration of the four colours for the whole product: the catalog's (problem types carry a
# default severity), re-exported here.
SEVERITY_ORDER = {s: i for i, s in enumerate(Severity.values)}


class Status(models.TextChoices):
    NEW = "new", _("待派遣")
    DISPATCHED = "dispatched", _("已派遣")
    ACCEPTED = "accepted", _("已签收")
    ON_SITE = "on_site", _("已到场")
    RESOLVED = "resolved", _("已处置")
    UNDER_REVIEW = "under_review", _("待审核")  # handled; the street's team leader approves or returns it
    CLOSED = "closed", _("已办结")
    REJECTED = "rejected", _("不予受理")
    DUPLICATE = "duplicate", _("重复已合并")
    TRANSFERRED = "transferred", _("已转办")
    DELIBERATION = "deliberation", _("议事协商中")


# Statuses in which the event is still being worked on (the SLA clock runs, it shows on the dashboard).
OPEN_STATUSES = (Status.NEW, Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE, Status.DELIBERATION)
# No action leads out of these.
FINAL_STATUSES = (Status.CLOSED, Status.REJECTED, Status.DUPLICATE, Status.TRANSFERRED)


class Action(models.TextChoices):
    """What happens to an event; SLA stages name the action that meets them (`met_by`)."""

    CREATE = "create", _("受理")
    DISPATCH = "dispatch", _("派遣")
    ACCEPT = "accept", _("签收")
    DECLINE = "decline", _("退回")
    ARRIVE = "arrive", _("到场")
    RESOLVE = "resolve", _("处置反馈")
    CLOSE = "close", _("办结评价")
    REJECT = "reject", _("不予受理")
    MERGE = "merge", _("合并")
    TRANSFER = "transfer", _("转办")
    ESCALATE = "escalate", _("升级")
    SEVERITY = "severity", _("调整等级")
    DELIBERATE = "deliberate", _("提交议事")
    BREACH = "breach", _("超时")
    PHOTO = "photo", _("上传照片")
    PUBLIC_NOTE = "public_note", _("公开说明")  # a note the dispatcher publishes (Open311 status_notes)
    APPROVE = "approve", _("审核通过")  # the team leader's review: closes the event
    RETURN = "return", _("退回重办")  # the team leader's review: back to the officer, handling clock restarted
    MEETING = "meeting", _("议事会议")  # a co-governance meeting held (minutes)
    CONCLUDE = "conclude", _("议事结论")  # the consensus: closes or re-opens the event


# Sources whose reporter is a citizen (the default review rule reviews every such event).
CITIZEN_SOURCES = (Source.CITIZEN, Source.HOTLINE_12345)


class DeliberationOutcome(models.TextChoices):
    """What the consensus of a co-governance deliberation does to its event."""

    CLOSE = "close", _("办结事件")
    REOPEN = "reopen", _("重新处置")


# Actions an SLA stage may be met by.
MET_BY_ACTIONS = (Action.DISPATCH, Action.ACCEPT, Action.ARRIVE, Action.RESOLVE, Action.CLOSE)


class Stage(models.TextChoices):
    SIGN_FOR = "sign_for", _("签收")
    RESPOND = "respond", _("响应")
    SET_OUT = "set_out", _("出发")
    LINK_UP = "link_up", _("联动")
    ARRIVE = "arrive", _("到场")
    HANDLE = "handle", _("处置")
    REPORT = "report", _("反馈")
    REWORK = "rework", _("重办")  # the handling again, after the team leader returned it


class EscalationTarget(models.TextChoices):
    """Where an overdue or escalated event goes, one step at a time."""

    NEXT_RANK = "next_rank", _("上一职级")
    TEAM_LEADER = "team_leader", _("执法队长")
    DISTRICT = "district", _("区指挥中心")


ESCALATION_LEVEL = {EscalationTarget.NEXT_RANK: 1, EscalationTarget.TEAM_LEADER: 2, EscalationTarget.DISTRICT: 3}
LEVEL_TARGET = {v: k for k, v in ESCALATION_LEVEL.items()}


class AssignmentStatus(models.TextChoices):
    LIVE = "live", _("进行中")
    DECLINED = "declined", _("已退回")
    RELEASED = "released", _("已撤回")
    DONE = "done", _("已完成")


class PhotoKind(models.TextChoices):
    """What an event photo shows: the problem as reported, or the result of the handling. An Open311
    client's media_url is kept as a link record (never fetched)."""

    REPORT = "report", _("上报照片")
    RESULT = "result", _("处置照片")
    MEDIA_URL = "media_url", _("外部图片链接")


class DispatchMode(models.TextChoices):
    """Who picks the officer for an event (per street and severity, command_center.models.DispatchRule)."""

    MANUAL = "manual", _("街道派遣")        # the street's command desk (dispatcher / team leader) picks
    CENTRAL = "central", _("区级统一派遣")  # only the district command center's dispatchers pick
    AUTOMATIC = "automatic", _("自动派遣")  # the best-ranked candidate is assigned on intake


class SubmissionStatus(models.TextChoices):
    """Where an asynchronous intake submission (`Prefer: respond-async`) stands."""

    PENDING = "pending", _("待处理")
    DONE = "done", _("已受理")
    FAILED = "failed", _("未通过")
