from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.choices import AreaKind, DeliveryStatus, DepartmentKind, DutyStatus, Rank, StreetTier, SubjectStatus


class Area(models.Model):
    """A node of the area tree (district > street > community > grid > micro-grid) or a zone of a street.

    `path` holds the ancestors' ids ("/1/4/17/"), so "this area and everything below" is one prefix query.
    """

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("层级"), max_length=16, choices=AreaKind.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    tier = models.CharField(_("镇街类型"), max_length=16, choices=StreetTier.choices, blank=True)
    zone = models.ForeignKey(
        "self", verbose_name=_("所属防区"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="zone_grids", limit_choices_to={"kind": AreaKind.ZONE},
    )
    boundary = models.JSONField(_("边界(GeoJSON)"), null=True, blank=True)
    # Bounding box, kept in step with the boundary, for "what is in the visible map box" queries.
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    min_lng = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lng = models.FloatField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        constraints = [
            models.CheckConstraint(
                condition=Q(tier="") | Q(kind=AreaKind.STREET), name="area_tier_only_on_streets"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(kind=AreaKind.DISTRICT), name="area_district_is_root"
            ),
        ]

    def __str__(self):
        return f"{self.name}({self.code})"

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]


class AreaIndexVersion(models.Model):
    """One row counting area writes. Every save or delete of an Area bumps it inside the writer's
    transaction, so other processes' spatial indexes notice the change even when its `updated_at` is
    older than one they have already seen (a long transaction that committed late)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("区域索引版本")
        verbose_name_plural = _("区域索引版本")


class AreaMembership(models.Model):
    """Binds a user (or API client) to an area: they see that area and everything below it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="area_memberships")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "area"], name="uniq_user_area")]
        verbose_name = _("用户辖区")
        verbose_name_plural = _("用户辖区")

    def __str__(self):
        return f"{self.user} → {self.area}"


class SubjectCategory(models.Model):
    """Two levels: a major category (parent is null) and its sub-categories."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("大类"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("对象类别")
        verbose_name_plural = _("对象类别")

    def __str__(self):
        return self.name


class Tag(models.Model):
    name = models.CharField(_("标签"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("标签")
        verbose_name_plural = _("标签")

    def __str__(self):
        return self.name


class Subject(models.Model):
    """A managed / enforced subject (管理对象): a shop, restaurant, site, compound, market…"""

    name = models.CharField(_("名称"), max_length=200, db_index=True)
    category = models.ForeignKey(
        SubjectCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="subjects"
    )
    legal_representative = models.CharField(_("法定代表人"), max_length=100, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    licence_no = models.CharField(_("营业执照号"), max_length=64, null=True, blank=True)
    shop_sign = models.CharField(_("店招"), max_length=200, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    grid = models.ForeignKey(Area, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="subjects")
    status = models.CharField(_("状态"), max_length=16, choices=SubjectStatus.choices, default=SubjectStatus.ACTIVE)
    tags = models.ManyToManyField(Tag, verbose_name=_("标签"), blank=True, related_name="subjects")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("管理对象")
        verbose_name_plural = _("管理对象")
        constraints = [
            models.UniqueConstraint(
                fields=["licence_no"], condition=Q(licence_no__isnull=False), name="uniq_subject_licence"
            ),
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90), name="subject_lat_range"),
            models.CheckConstraint(condition=Q(lng__gte=-180, lng__lte=180), name="subject_lng_range"),
        ]
        indexes = [models.Index(fields=["lat", "lng"])]

    def __str__(self):
        return self.name


class Department(models.Model):
    """An enforcement or supervising department (the "1+8" and the supervising bodies)."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=DepartmentKind.choices, default=DepartmentKind.ENFORCEMENT)

    class Meta:
        ordering = ["code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self):
        return self.name


class Team(models.Model):
    """A street's comprehensive enforcement team (综合行政执法队)."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    street = models.ForeignKey(
        Area, verbose_name=_("镇街"), on_delete=models.PROTECT, related_name="teams",
        limit_choices_to={"kind": AreaKind.STREET},
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("执法队")
        verbose_name_plural = _("执法队")

    def __str__(self):
        return self.name


class Officer(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="officer")
    name = models.CharField(_("姓名"), max_length=50)
    badge_no = models.CharField(_("执法证号"), max_length=32, unique=True)
    team = models.ForeignKey(Team, verbose_name=_("所属队"), on_delete=models.PROTECT, related_name="officers")
    home_department = models.ForeignKey(
        Department, verbose_name=_("派出部门"), on_delete=models.PROTECT, related_name="home_officers"
    )
    seconded = models.BooleanField(_("下沉人员"), default=True)
    rank = models.PositiveSmallIntegerField(_("职级"), choices=Rank.choices, default=Rank.MEMBER)
    skill_departments = models.ManyToManyField(
        Department, verbose_name=_("可办理部门事项"), blank=True, related_name="skilled_officers"
    )
    # Matter codes beyond the departments' (the catalog lives in a higher app, so codes, not keys).
    skill_matter_codes = models.JSONField(_("可办理事项编码"), default=list, blank=True)
    phone = models.CharField(_("手机"), max_length=32, blank=True)
    duty_status = models.CharField(_("勤务状态"), max_length=16, choices=DutyStatus.choices, default=DutyStatus.OFF_DUTY)
    last_lat = models.FloatField(null=True, blank=True)
    last_lng = models.FloatField(null=True, blank=True)
    last_accuracy = models.FloatField(null=True, blank=True)
    last_heading = models.FloatField(null=True, blank=True)
    last_position_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("执法队员")
        verbose_name_plural = _("执法队员")
        constraints = [models.CheckConstraint(condition=Q(rank__gte=1, rank__lte=4), name="officer_rank_range")]

    def __str__(self):
        return f"{self.name}({self.badge_no})"


class OfficerPosition(models.Model):
    """The track: every GPS ping as received (phones, body cameras, vehicles)."""

    officer = models.ForeignKey(Officer, on_delete=models.CASCADE, related_name="positions")
    lat = models.FloatField()
    lng = models.FloatField()
    accuracy = models.FloatField(null=True, blank=True)
    heading = models.FloatField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["officer", "-recorded_at"])]
        constraints = [
            models.UniqueConstraint(fields=["officer", "recorded_at"], name="uniq_officer_position_time")
        ]


class Notice(models.Model):
    """A one-click notice to every active subject of an area."""

    area = models.ForeignKey(Area, verbose_name=_("区域"), on_delete=models.PROTECT, related_name="notices")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    recipient_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("一键通知")
        verbose_name_plural = _("一键通知")

    def __str__(self):
        return self.title


class NoticeDelivery(models.Model):
    """One notice to one subject: the outbox the sender works from."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="notice_deliveries")
    phone = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    channel = models.CharField(max_length=32, default="outbox")
    attempted_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "subject"], name="uniq_notice_subject")]
        indexes = [models.Index(fields=["status"])]
