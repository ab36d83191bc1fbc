from django.db import models
from django.utils.translation import gettext_lazy as _


class Color(models.TextChoices):
    GREEN = "green", _("绿")
    YELLOW = "yellow", _("黄")
    RED = "red", _("红")


# Worse colours rank higher: "at least yellow" is max(colour, yellow) in this order.
COLOR_RANK = {Color.GREEN: 0, Color.YELLOW: 1, Color.RED: 2}


def worse(a: str, b: str) -> str:
    return a if COLOR_RANK[a] >= COLOR_RANK[b] else b


class FactKind(models.TextChoices):
    INSPECTION_FINDING = "inspection_finding", _("检查发现问题")
    RECTIFICATION_OPEN = "rectification_open", _("整改未完成")
    RECTIFICATION_OVERDUE = "rectification_overdue", _("整改逾期")
    RECTIFICATION_LATE = "rectification_late", _("整改延迟完成")
    COMPLAINT = "complaint", _("投诉")
    VIOLATION = "violation", _("违法处罚")
    SENSOR_EXCEEDANCE = "sensor_exceedance", _("监测超标")


class Leniency(models.TextChoices):
    NONE = "", _("无")
    FIRST = "first", _("首违不罚")
    MINOR = "minor", _("轻微不罚")
    MEDIATED = "mediated", _("调解不罚")
    REDUCED = "reduced", _("公益减罚")


class HistoryCause(models.TextChoices):
    FACT_POSTED = "fact_posted", _("新增记录")
    FACT_WITHDRAWN = "fact_withdrawn", _("撤销记录")
    RESCORE = "rescore", _("定期重算(时间衰减)")
    POLICY = "policy", _("评分规则变更")
    OVERRIDE = "override", _("人工调整")
    OVERRIDE_ENDED = "override_ended", _("人工调整结束")
    SENSOR = "sensor", _("监测数据")
