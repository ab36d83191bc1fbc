"""Events, their idempotency keys, timeline, assignments and photos.

Invariants that matter under concurrency live in the database: one event per (client, source,
external_id), one idempotency key per client, at most one live assignment per event, an officer never
assigned the same event twice."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from command_center.choices import Action, AssignmentStatus, PhotoKind, Severity, Source, Status
from core.models import AppendOnlyQuerySet


class Event(models.Model):
    """One reported or detected problem, from intake to closure."""

    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, db_index=True)
    external_id = models.CharField(_("外部编号"), max_length=100, null=True, blank=True)
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交方"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="posted_events",
    )
    reporter_name = models.CharField(_("上报人"), max_length=100, blank=True)
    reporter_phone = models.CharField(_("上报人电话"), max_length=32, blank=True)
    # The catalog (enforcement) is versioned: codes, with the name as it was at intake.
    problem_type_code = models.CharField(_("问题类型编码"), max_length=64, db_index=True)
    problem_type_name = models.CharField(_("问题类型"), max_length=100, blank=True)
    matter_code = models.CharField(_("执法事项编码"), max_length=64, blank=True, db_index=True)
    description = models.TextField(_("描述"))
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    address = models.CharField(_("地址"), max_length=255, blank=True)
    # The smallest area containing the point (micro-grid or grid, or whatever is smallest there):
    # scoping by its path lets users bound at any level see the events below them.
    area = models.ForeignKey(
        "grids.Area", verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="+",
    )
    grid = models.ForeignKey(
        "grids.Area", verbose_name=_("网格"), null=True, blank=True, on_delete=models.PROTECT, related_name="grid_events",
    )
    street = models.ForeignKey(
        "grids.Area", verbose_name=_("镇街"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="street_events",
    )
    team = models.ForeignKey(
        "grids.Team", verbose_name=_("责任执法队"), null=True, blank=True, on_delete=models.PROTECT, related_name="events",
    )
    department = models.ForeignKey(
        "grids.Department", verbose_name=_("责任部门"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="events",
    )
    delegated = models.BooleanField(_("已赋权镇街"), default=False)
    routing_reason = models.CharField(_("分拨依据"), max_length=500, blank=True)
    subject = models.ForeignKey(
        "grids.Subject", verbose_name=_("涉及对象"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="events",
    )
    severity = models.CharField(_("等级"), max_length=8, choices=Severity.choices, db_index=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.NEW, db_index=True)
    # The officer holding the live assignment (kept in step with Assignment by the services).
    officer = models.ForeignKey(
        "grids.Officer", verbose_name=_("当前处置人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="current_events",
    )
    escalation_level = models.PositiveSmallIntegerField(_("升级层级"), default=0)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("合并至"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged_events",
    )
    possible_duplicate_of = models.ForeignKey(
        "self", verbose_name=_("疑似重复"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    transferred_to = models.CharField(_("转办至"), max_length=100, blank=True)
    result = models.TextField(_("处置结果"), blank=True)
    # The team leader's reason the last time the handling was returned for rework (the phone shows it).
    return_reason = models.CharField(_("退回重办原因"), max_length=500, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    # Counts decisions (status, severity, assignment, escalation by people): the ETag. The SLA sweep's
    # breach lines do not bump it, so a dispatcher's If-Match does not go stale because a clock fired.
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("受理时间"), db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("到场时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("事件")
        verbose_name_plural = _("事件")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "source", "external_id"], condition=Q(external_id__isnull=False),
                name="uniq_event_client_source_external_id",
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="event_satisfaction_1_5",
            ),
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90), name="event_lat_range"),
            models.CheckConstraint(condition=Q(lng__gte=-180, lng__lte=180), name="event_lng_range"),
            models.CheckConstraint(
                condition=~Q(status=Status.DUPLICATE) | Q(merged_into__isnull=False), name="event_duplicate_has_target",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "severity"]),
            models.Index(fields=["problem_type_code", "created_at"]),
            models.Index(fields=["lat", "lng"]),
        ]

    def __str__(self):
        return f"#{self.pk} {self.problem_type_name or self.problem_type_code}"

    @property
    def etag(self) -> str:
        return f'"{self.pk}-v{self.version}"'


class IdempotencyKey(models.Model):
    """An Idempotency-Key a client sent, with a hash of the request it came with and the event it made."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="idempotency_keys")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="uniq_idempotency_client_key")]


class TimelineEntry(models.Model):
    """One step in an event's life: who did what, when, from which status to which. Append-only."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=16, choices=Action.choices)
    from_status = models.CharField(_("原状态"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=Status.choices, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("事件时间线")
        verbose_name_plural = _("事件时间线")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("timeline entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("timeline entries are append-only")


class Assignment(models.Model):
    """An officer given an event. At most one live per event; an officer never gets one event twice."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="assignments")
    officer = models.ForeignKey("grids.Officer", on_delete=models.PROTECT, related_name="assignments")
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.LIVE)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    assigned_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        verbose_name = _("派遣")
        verbose_name_plural = _("派遣")
        constraints = [
            models.UniqueConstraint(
                fields=["event"], condition=Q(status=AssignmentStatus.LIVE), name="uniq_live_assignment_per_event",
            ),
            models.UniqueConstraint(fields=["event", "officer"], name="uniq_assignment_event_officer"),
        ]
        indexes = [models.Index(fields=["officer", "status"])]


# --- Event photos (command_center.photos) ---------------------------------------------------------

def event_photo_path(instance, filename):
    """events/<event id>/<random>.<ext>: the extension comes from the checked content, never from the
    uploader's file name, and the name cannot be guessed (files are served only through a view that
    checks the asker's areas, but a guessable name would still leak through a misconfigured server)."""
    import secrets

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"events/{instance.event_id}/{secrets.token_hex(16)}.{ext}"


class EventPhoto(models.Model):
    """A photo of an event: as reported (intake), or of the result (resolve); or, from an Open311 client,
    a link to its own media (kind media_url, url set, no file). Evidence: kept as uploaded (SHA-256
    recorded), never edited or deleted through the product."""

    event = models.ForeignKey(Event, verbose_name=_("事件"), on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("类型"), max_length=16, choices=PhotoKind.choices)
    file = models.FileField(_("文件"), upload_to=event_photo_path, max_length=255, blank=True)
    url = models.URLField(_("外部链接"), max_length=1000, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=32, blank=True)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    width = models.PositiveIntegerField(_("宽"), null=True, blank=True)
    height = models.PositiveIntegerField(_("高"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_by_label = models.CharField(_("上传人名称"), max_length=150, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("事件照片")
        verbose_name_plural = _("事件照片")
        indexes = [models.Index(fields=["event", "kind"])]
        constraints = [
            # A link record has a URL and no file; an upload has a file and no URL.
            models.CheckConstraint(
                condition=(Q(kind=PhotoKind.MEDIA_URL) & ~Q(url="") & Q(file=""))
                | (~Q(kind=PhotoKind.MEDIA_URL) & ~Q(file="") & Q(url="")),
                name="event_photo_file_xor_url",
            ),
        ]

    def __str__(self):
        return f"{self.event_id}:{self.kind}:{self.pk}"


# --- Webhooks for other platforms (command_center.webhooks) ---------------------------------------
