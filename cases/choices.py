"""The enumerations of casework: statuses, origins, outcomes, the steps of the full-process record."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    FILED = "filed", _("立案")
    INVESTIGATION = "investigation", _("调查取证")
    REVIEW = "review", _("审核")
    APPROVED = "approved", _("审核通过待告知")
    NOTIFIED = "notified", _("事先告知")
    LEGAL_REVIEW = "legal_review", _("法制审核")
    DECIDED = "decided", _("已决定")
    SERVED = "served", _("已送达")
    EXECUTED = "executed", _("已执行")
    CLOSED = "closed", _("结案")
    TRANSFERRED = "transferred", _("已移送")


# Statuses after which the case's decision stands (an appeal may be lodged against it).
DECIDED_STATUSES = (Status.DECIDED, Status.SERVED, Status.EXECUTED, Status.CLOSED)
FINAL_STATUSES = (Status.CLOSED, Status.TRANSFERRED)


class Origin(models.TextChoices):
    EVENT = "event", _("事件")
    FINDING = "finding", _("检查发现")
    DIRECT = "direct", _("直接立案")


class PartyKind(models.TextChoices):
    BUSINESS = "business", _("单位")
    PERSON = "person", _("个人")


class Procedure(models.TextChoices):
    GENERAL = "general", _("普通程序")
    SIMPLE = "simple", _("简易程序")


class Outcome(models.TextChoices):
    PENALTY = "penalty", _("处罚")
    REDUCED = "reduced", _("公益减罚")
    NO_PENALTY = "no_penalty", _("不予处罚")


class LenientGround(models.TextChoices):
    NONE = "", _("无")
    MINOR = "minor", _("轻微不罚")
    FIRST = "first", _("首违不罚")
    MEDIATED = "mediated", _("调解不罚")


class Step(models.TextChoices):
    """What a line of the full-process record (全过程记录) says happened."""

    FILE = "file", _("立案")
    INVESTIGATE = "investigate", _("开始调查")
    EVIDENCE = "evidence", _("添加证据")
    SUBMIT = "submit", _("提交审核")
    APPROVE = "approve", _("审核通过")
    RETURN = "return", _("退回重办")
    NOTIFY = "notify", _("事先告知")
    STATEMENT = "statement", _("陈述申辩")
    HEARING = "hearing", _("听证")
    REQUEST_LEGAL_REVIEW = "request_legal_review", _("提交法制审核")
    LEGAL_REVIEW = "legal_review", _("法制审核意见")
    DECIDE = "decide", _("作出决定")
    SERVE = "serve", _("送达")
    EXECUTE = "execute", _("执行")
    CLOSE = "close", _("结案")
    TRANSFER = "transfer", _("移送")
    ACCEPT_TRANSFER = "accept_transfer", _("接收移送")
    REFUSE_TRANSFER = "refuse_transfer", _("拒绝移送")
    APPEAL = "appeal", _("复议/申诉")
    APPEAL_DECIDED = "appeal_decided", _("复议/申诉结果")
    QUALITY_REVIEW = "quality_review", _("案卷评查")
    VIEW_PERSONAL = "view_personal", _("查看个人信息")
    EXPORT = "export", _("导出文书")
    REMINDER = "reminder", _("期限提醒")


class LegalOpinion(models.TextChoices):
    AGREE = "agree", _("同意")
    RETURN = "return", _("退回")


class TransferTarget(models.TextChoices):
    DEPARTMENT = "department", _("移送部门")
    STREET = "street", _("移送镇街")


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("待接收")
    ACCEPTED = "accepted", _("已接收")
    REFUSED = "refused", _("已拒绝")


class AppealKind(models.TextChoices):
    RECONSIDERATION = "reconsideration", _("行政复议")
    COMPLAINT = "complaint", _("申诉")


class AppealResult(models.TextChoices):
    PENDING = "", _("待决定")
    UPHELD = "upheld", _("维持")
    REVOKED = "revoked", _("撤销")
    CHANGED = "changed", _("变更")


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("照片")
    VIDEO = "video", _("视频")
    DOCUMENT = "document", _("文书")
    AUDIO = "audio", _("录音")
