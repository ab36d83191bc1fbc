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


# What spreadsheets call the colours besides the labels: the colour alone (黄色, 黄) and the names used
# before the command center's words became the one set (黄色（较大）…), so older files still import.
SEVERITY_ALIASES = {
    alias: value
    for value, names in (("blue", ("蓝色", "蓝", "蓝色（一般）")), ("yellow", ("黄色", "黄", "黄色（较大）")),
                         ("orange", ("橙色", "橙", "橙色（重大）")), ("red", ("红色", "红", "红色（特别重大）")))
    for alias in names
}


def label_to_value(choices, text: str, aliases=None):
    """Accept either the stored value or its Chinese label (spreadsheets use labels), or one of `aliases`."""
    text = (text or "").strip()
    if text in choices.values:
        return text
    if aliases and text in aliases:
        return aliases[text]
    for value, label in choices.choices:
        if str(label) == text or str(label).split("（")[0] == text:
            return value
    return None
