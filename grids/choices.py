from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaKind(models.TextChoices):
    DISTRICT = "district", _("区")
    STREET = "street", _("镇街")
    COMMUNITY = "community", _("村社")
    GRID = "grid", _("网格")
    MICRO_GRID = "micro_grid", _("微网格")
    ZONE = "zone", _("防区/片区")


# Which kind may sit under which: the tree is district > street > community > grid > micro-grid,
# and zones group grids of one street.
ALLOWED_PARENT = {
    AreaKind.DISTRICT: (None,),
    AreaKind.STREET: (AreaKind.DISTRICT,),
    AreaKind.COMMUNITY: (AreaKind.STREET,),
    AreaKind.GRID: (AreaKind.COMMUNITY,),
    AreaKind.MICRO_GRID: (AreaKind.GRID,),
    AreaKind.ZONE: (AreaKind.STREET,),
}
# Depth order for "smallest first" point lookups.
KIND_DEPTH = {
    AreaKind.DISTRICT: 0,
    AreaKind.STREET: 1,
    AreaKind.COMMUNITY: 2,
    AreaKind.GRID: 3,
    AreaKind.MICRO_GRID: 4,
}


class StreetTier(models.TextChoices):
    GENERAL = "general", _("一般镇街")
    CENTRAL = "central", _("中心镇街")
    URBAN = "urban", _("城区镇街")


class SubjectStatus(models.TextChoices):
    ACTIVE = "active", _("在营")
    CLOSED = "closed", _("已关闭")


class DepartmentKind(models.TextChoices):
    ENFORCEMENT = "enforcement", _("执法部门")
    SUPERVISING = "supervising", _("监管部门")


class DutyStatus(models.TextChoices):
    OFF_DUTY = "off_duty", _("下班")
    AVAILABLE = "available", _("空闲")
    EN_ROUTE = "en_route", _("在途")
    ON_SCENE = "on_scene", _("在现场")
    BUSY = "busy", _("忙碌")
    ON_BREAK = "on_break", _("休息")


class Rank(models.IntegerChoices):
    # Higher events need higher ranks (blue 1 … red 4 by default).
    MEMBER = 1, _("队员")
    SQUAD_LEADER = 2, _("组长")
    DEPUTY_CAPTAIN = 3, _("副队长")
    CAPTAIN = 4, _("队长")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("无联系方式")
