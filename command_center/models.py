"""Events, their timeline, the SLA clock (policies, deadlines, breaches), escalations and assignments.

Invariants that matter under concurrency live in the database: one event per (client, source,
external_id), one idempotency key per client, at most one live assignment per event, an officer never
assigned the same event twice, one breach per deadline.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from command_center.choices import (
    Action, AssignmentStatus, EscalationTarget, PhotoKind, Severity, Source, Status,
)
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


class SlaPolicy(models.Model):
    """Timed response for one street (or the district default when street is empty) and one severity.

    `stages`: ordered list of {"stage", "minutes", "met_by", "escalate_to"}; minutes count from intake and
    never decrease down the list (1510 = sign for within 1, arrive within 5, handle within 10).
    """

    name = models.CharField(_("名称"), max_length=100)
    street = models.ForeignKey(
        "grids.Area", verbose_name=_("镇街"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="sla_policies", help_text=_("留空表示全区默认"),
    )
    severity = models.CharField(_("等级"), max_length=8, choices=Severity.choices)
    stages = models.JSONField(_("时限环节"), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["street_id", "severity"]
        verbose_name = _("时限策略")
        verbose_name_plural = _("时限策略")
        constraints = [
            models.UniqueConstraint(
                fields=["street", "severity"], condition=Q(street__isnull=False), name="uniq_sla_street_severity",
            ),
            models.UniqueConstraint(
                fields=["severity"], condition=Q(street__isnull=True), name="uniq_sla_district_severity",
            ),
        ]

    def __str__(self):
        return self.name


class Deadline(models.Model):
    """One timed stage of one event. The sweep fires a due one exactly once (fired_at)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deadlines")
    stage = models.CharField(_("环节"), max_length=16)
    position = models.PositiveSmallIntegerField(default=0)
    met_by = models.CharField(_("完成动作"), max_length=16, choices=Action.choices)
    escalate_to = models.CharField(_("超时升级至"), max_length=16, choices=EscalationTarget.choices)
    policy_name = models.CharField(_("时限策略"), max_length=100, blank=True)
    due_at = models.DateTimeField(_("时限"))
    met_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # Set when the stage is known to have been missed (by the sweep, or by a late action before it).
    breached_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    # Set once, by whoever wins the conditional UPDATE … WHERE fired_at IS NULL.
    fired_at = models.DateTimeField(_("触发时间"), null=True, blank=True)
    # The event left the flow (closed, rejected, merged, transferred, re-graded) before the stage came up.
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        ordering = ["event_id", "position", "id"]
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        indexes = [
            # The sweep's index: only deadlines still waiting to fire are in it, so it stays small.
            models.Index(
                fields=["due_at"], name="deadline_due_unfired",
                condition=Q(fired_at__isnull=True, met_at__isnull=True, cancelled_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "stage"], condition=Q(cancelled_at__isnull=True), name="uniq_live_deadline_stage",
            ),
        ]

    def __str__(self):
        return f"{self.event_id}:{self.stage}@{self.due_at:%H:%M:%S}"


class Breach(models.Model):
    """A deadline that fired: the stage was not met in time."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="breaches")
    deadline = models.OneToOneField(Deadline, on_delete=models.CASCADE, related_name="breach")
    stage = models.CharField(_("环节"), max_length=16)
    due_at = models.DateTimeField(_("时限"))
    fired_at = models.DateTimeField(_("触发时间"), db_index=True)
    officer = models.ForeignKey(
        "grids.Officer", verbose_name=_("当时处置人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    status = models.CharField(_("当时状态"), max_length=16, choices=Status.choices)

    class Meta:
        ordering = ["-fired_at", "-id"]
        verbose_name = _("超时记录")
        verbose_name_plural = _("超时记录")


class Escalation(models.Model):
    """An event raised to the next rank, the team leader or the district: by a breach or by a person."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="escalations")
    breach = models.OneToOneField(Breach, null=True, blank=True, on_delete=models.CASCADE, related_name="escalation")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    target = models.CharField(_("升级至"), max_length=16, choices=EscalationTarget.choices)
    level = models.PositiveSmallIntegerField(_("层级"))
    target_officer = models.ForeignKey(
        "grids.Officer", null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations_received",
    )
    target_team = models.ForeignKey("grids.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_area = models.ForeignKey("grids.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("原因"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("升级记录")
        verbose_name_plural = _("升级记录")


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

from django.core.validators import URLValidator  # noqa: E402

WEBHOOK_KINDS = ("event.created", "event.updated", "assignment.changed", "sla.breached")


def _webhook_secret():
    import secrets

    return secrets.token_urlsafe(32)


def _validate_webhook_kinds(value):
    from django.core.exceptions import ValidationError

    if not isinstance(value, list) or not value or any(k not in WEBHOOK_KINDS for k in value):
        raise ValidationError(_("事件类型须为以下之一的非空列表：%(kinds)s"), params={"kinds": ", ".join(WEBHOOK_KINDS)})


class WebhookSubscription(models.Model):
    """An API client's endpoint: which kinds of change it wants, for which areas (none = the client's own)."""

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("外部平台"), on_delete=models.CASCADE,
        related_name="webhook_subscriptions", limit_choices_to={"groups__name": "api_client"},
    )
    url = models.URLField(_("推送地址"), max_length=500, help_text=_("http 或 https 地址"),
                          validators=[URLValidator(schemes=["http", "https"])])
    secret = models.CharField(_("签名密钥"), max_length=128, default=_webhook_secret)
    kinds = models.JSONField(_("事件类型"), default=list, validators=[_validate_webhook_kinds],
                             help_text=_("如 [\"event.created\", \"sla.breached\"]"))
    areas = models.ManyToManyField("grids.Area", verbose_name=_("区域"), blank=True, related_name="+",
                                   help_text=_("留空表示该平台自身的区域"))
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("Webhook 订阅")
        verbose_name_plural = _("Webhook 订阅")

    def __str__(self):
        return f"{self.client} → {self.url}"

    def clean(self):
        from django.core.exceptions import ValidationError

        from core.roles import API_CLIENT, has_role

        from core import egress

        errors = {}
        if self.client_id and not has_role(self.client, API_CLIENT):
            errors["client"] = _("只能为外部平台账号订阅。")
        if self.url:
            try:
                egress.check_url(self.url)  # sent again through the same check, to the address checked
            except egress.AddressRefused as exc:
                errors["url"] = _("推送地址不能指向本机或内网：%(reason)s") % {"reason": exc.reason}
        if errors:
            raise ValidationError(errors)


class WebhookDelivery(models.Model):
    """One change sent (or to be sent) to one subscription: the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败待重试")
        DEAD = "dead", _("已放弃")

    subscription = models.ForeignKey(WebhookSubscription, verbose_name=_("订阅"), on_delete=models.CASCADE,
                                     related_name="deliveries")
    kind = models.CharField(_("类型"), max_length=32)
    event = models.ForeignKey(Event, verbose_name=_("事件"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    payload = models.JSONField(_("内容"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    # The outbox row (and the change's place in it) this delivery was made for: a row run twice makes
    # each delivery once.
    source_key = models.CharField(_("来源"), max_length=80, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Webhook 推送记录")
        verbose_name_plural = _("Webhook 推送记录")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]
        constraints = [models.UniqueConstraint(fields=["subscription", "source_key"], condition=~models.Q(source_key=""),
                                               name="webhook_delivery_once_per_source")]

    def __str__(self):
        return f"#{self.pk} {self.kind} → {self.subscription_id}"


# --- Dispatch modes and the dispatchers' sign-on (command_center.dispatch) ----------------------------

from django.db.models import F  # noqa: E402

from command_center.choices import DispatchMode  # noqa: E402


def street_severity_constraints(prefix: str) -> list:
    """One rule per (street, severity), and one district default (street empty) per severity."""
    return [
        models.UniqueConstraint(fields=["street", "severity"], condition=Q(street__isnull=False),
                                name=f"uniq_{prefix}_street_severity"),
        models.UniqueConstraint(fields=["severity"], condition=Q(street__isnull=True),
                                name=f"uniq_{prefix}_district_severity"),
    ]


class StreetSeverityRule(models.Model):
    """What a rule for one street (or the district default when `street` is empty, declared by each rule
    with its own related name) and one severity holds besides its setting: who changed it, when."""

    severity = models.CharField(_("等级"), max_length=8, choices=Severity.choices)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("修改人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ["street_id", "severity"]

    def scope_label(self) -> str:
        return f"{self.street.name if self.street_id else _('全区默认')} {self.get_severity_display()}"


class DispatchRule(StreetSeverityRule):
    """How events of one street (or the district default when street is empty) and one severity are
    dispatched. No rule at all: events wait in the dispatchers' queue (nothing automatic happens)."""

    street = models.ForeignKey(
        "grids.Area", verbose_name=_("镇街"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="dispatch_rules", help_text=_("留空表示全区默认"),
    )
    mode = models.CharField(_("派遣模式"), max_length=16, choices=DispatchMode.choices)
    # In automatic mode a decline always goes to the next candidate; this turns it on for the others too.
    next_on_decline = models.BooleanField(
        _("退回后自动派给下一候选人"), default=False, help_text=_("自动派遣模式下总是如此"),
    )

    class Meta(StreetSeverityRule.Meta):
        verbose_name = _("派遣规则")
        verbose_name_plural = _("派遣规则")
        constraints = street_severity_constraints("dispatch_rule")

    def __str__(self):
        return f"{self.scope_label()}: {self.get_mode_display()}"


class DispatcherShift(models.Model):
    """A dispatcher (or team leader) signed on at the command desk: from started_at until they sign off
    (ended_at) or the shift's planned end (ends_at) passes, whichever comes first, so a forgotten
    sign-off cannot keep a street in manual mode with nobody watching."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("值班员"), on_delete=models.CASCADE, related_name="dispatcher_shifts",
    )
    started_at = models.DateTimeField(_("签到时间"))
    ends_at = models.DateTimeField(_("计划下班时间"))
    ended_at = models.DateTimeField(_("签退时间"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("值班签到")
        verbose_name_plural = _("值班签到")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(ended_at__isnull=True), name="uniq_open_dispatcher_shift"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("started_at")), name="dispatcher_shift_ends_after_start"),
        ]
        indexes = [models.Index(fields=["ends_at"], name="dispatcher_shift_open", condition=Q(ended_at__isnull=True))]

    def __str__(self):
        return f"{self.user} {self.started_at:%Y-%m-%d %H:%M}"


# --- The team leader's review and co-governance (command_center.services.review / deliberation) -------

from command_center.choices import DeliberationOutcome  # noqa: E402


class ReviewRule(StreetSeverityRule):
    """Whether handled events of one street (or the district default when street is empty) and one
    severity wait for the team leader's review (审核) before they close. No rule: no review (the event
    is closed by the dispatcher's evaluation, as before review existed)."""

    class Review(models.TextChoices):
        ALL = "all", _("全部审核")
        CITIZEN = "citizen", _("群众上报的审核")
        NONE = "none", _("不审核")

    street = models.ForeignKey(
        "grids.Area", verbose_name=_("镇街"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="review_rules", help_text=_("留空表示全区默认"),
    )
    review = models.CharField(_("审核范围"), max_length=8, choices=Review.choices)

    class Meta(StreetSeverityRule.Meta):
        verbose_name = _("审核规则")
        verbose_name_plural = _("审核规则")
        constraints = street_severity_constraints("review_rule")

    def __str__(self):
        return f"{self.scope_label()}: {self.get_review_display()}"


class Deliberation(models.Model):
    """Co-governance deliberation (红茶议事会) of an event enforcement cannot settle: the topic, who takes
    part, its meetings, and the consensus, whose outcome closes or re-opens the event. One open per event."""

    event = models.ForeignKey(Event, verbose_name=_("事件"), on_delete=models.PROTECT, related_name="deliberations")
    topic = models.CharField(_("议题"), max_length=500)
    # [{"name": "…", "role": "…"}]: residents, shop owners, the community, departments.
    participants = models.JSONField(_("参与方"), default=list, blank=True)
    from_status = models.CharField(_("提交前状态"), max_length=16, choices=Status.choices)
    started_at = models.DateTimeField(_("提交时间"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    consensus = models.TextField(_("议事共识"), blank=True)
    outcome = models.CharField(_("结果"), max_length=8, choices=DeliberationOutcome.choices, blank=True)
    concluded_at = models.DateTimeField(_("形成结论时间"), null=True, blank=True)
    concluded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("结论登记人"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("议事协商")
        verbose_name_plural = _("议事协商")
        constraints = [
            models.UniqueConstraint(fields=["event"], condition=Q(concluded_at__isnull=True),
                                    name="uniq_open_deliberation_per_event"),
        ]

    def __str__(self):
        return f"#{self.event_id} {self.topic[:30]}"


class DeliberationMeeting(models.Model):
    """One meeting of a deliberation, with its minutes. Append-only (a record of what was said)."""

    deliberation = models.ForeignKey(Deliberation, verbose_name=_("议事协商"), on_delete=models.PROTECT,
                                     related_name="meetings")
    held_at = models.DateTimeField(_("会议时间"))
    place = models.CharField(_("地点"), max_length=200, blank=True)
    attendees = models.JSONField(_("参会人"), default=list, blank=True)
    minutes = models.TextField(_("会议纪要"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("记录时间"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["held_at", "id"]
        verbose_name = _("议事会议")
        verbose_name_plural = _("议事会议")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("meeting minutes are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("meeting minutes are append-only")


from command_center.submission_models import EventSubmission  # noqa: E402,F401 — the app's model, kept apart
