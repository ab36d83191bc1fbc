"""Enumerations of the matter catalog (one place, so models, imports and the API agree)."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("现行")
    ARCHIVED = "archived", _("已归档")


class MatterKind(models.TextChoices):
    ADMINISTRATIVE_PENALTY = "administrative_penalty", _("行政处罚")
    INSPECTION = "inspection", _("行政检查")
    COERCIVE_MEASURE = "coercive_measure", _("行政强制")
    SUPERVISION = "supervision", _("监督管理")


class MatterStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    REPEALED = "repealed", _("已废止")


class Severity(models.TextChoices):
    """The four colours of event severity (四色分类), lowest first."""

    # The command center's own words, one set for the whole product (queue, drawer, screen, API, exports):
    # English "Blue general / Yellow normal / Orange important / Red major".
    BLUE = "blue", _("蓝色一般事件")
    YELLOW = "yellow", _("黄色普通事件")
    ORANGE = "orange", _("橙色重要事件")
    RED = "red", _("红色特大事件")


class DelegationSource(models.TextChoices):
    MANUAL = "manual", _("单独赋权")
    TEMPLATE = "template", _("分类模板")
    IMPORT = "import", _("批量导入")


class ScenarioStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class ScenarioItemKind(models.TextChoices):
    SUPERVISION = "supervision", _("监管事项")
    ENFORCEMENT = "enforcement", _("执法事项")


def label_to_value(choices, text: str):
    """Accept either the stored value or its Chinese label (spreadsheets use labels)."""
    text = (text or "").strip()
    if text in choices.values:
        return text
    for value, label in choices.choices:
        if str(label) == text or str(label).split("（")[0] == text:
            return value
    return None
