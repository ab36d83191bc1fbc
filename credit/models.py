"""Red-yellow-green credit: a ledger of facts about subjects, versioned policies, scores with reasons,
colour history, manual overrides, and the sensor readings that feed the sensor rules.

Credit imports only grids: other apps post facts through credit.services with a reference to their
own record (app label + model + pk), never a foreign key into them.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credit.choices import Color, FactKind, HistoryCause, Leniency


def default_base_points():
    """Points a fact counts when its poster gives none (e.g. a complaint), per kind."""
    return {
        FactKind.INSPECTION_FINDING: 2,
        FactKind.RECTIFICATION_OPEN: 3,
        FactKind.RECTIFICATION_OVERDUE: 7,
        FactKind.RECTIFICATION_LATE: 4,
        FactKind.COMPLAINT: 3,
        FactKind.VIOLATION: 10,
        FactKind.SENSOR_EXCEEDANCE: 2,  # per day over the limit
    }


def default_weights():
    """Multiplier per factor (kind): 1 keeps the points as posted, 0 switches the factor off."""
    return {kind: 1.0 for kind in FactKind.values}


def default_sensor_rules():
    # Restaurant fume (DOMAIN.md): over the limit one day → at least yellow, two or more consecutive
    # days → red; counted over the last 30 days. Limit in mg/m³ (GB 18483 allows 2.0).
    return [
        {"metric": "fume", "limit": 2.0, "days": 1, "color": Color.YELLOW, "within_days": 30},
        {"metric": "fume", "limit": 2.0, "days": 2, "color": Color.RED, "within_days": 30},
    ]


class CreditPolicy(models.Model):
    """How facts become a score and a colour, for one subject category (null: the district default).

    Versioned: an edit writes a new row (version + 1) and retires the old one, which is kept, so a
    score can always say which rules produced it.
    """

    category = models.ForeignKey(
        "grids.SubjectCategory", verbose_name=_("对象类别"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="credit_policies", help_text=_("留空为全区默认规则"),
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    is_current = models.BooleanField(_("现行"), default=True, db_index=True)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    window_days = models.PositiveIntegerField(_("回溯天数"), default=365)
    half_life_days = models.FloatField(
        _("衰减半衰期(天)"), null=True, blank=True, default=180, help_text=_("留空为不衰减")
    )
    yellow_from = models.FloatField(_("黄色起始分"), default=14)
    red_from = models.FloatField(_("红色起始分"), default=28)
    base_points = models.JSONField(_("默认分值"), default=default_base_points, blank=True)
    weights = models.JSONField(_("因素权重"), default=default_weights, blank=True)
    lenient_multiplier = models.FloatField(_("从轻处理系数"), default=0.3)
    complaint_confirmed_weight = models.FloatField(_("已核实投诉权重"), default=1.0)
    complaint_unconfirmed_weight = models.FloatField(_("未核实投诉权重"), default=0.3)
    sensor_rules = models.JSONField(_("监测规则"), default=default_sensor_rules, blank=True)
    note = models.CharField(_("修改说明"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["category_id", "-version"]
        verbose_name = _("信用评分规则")
        verbose_name_plural = _("信用评分规则")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "version"], condition=Q(category__isnull=False), name="uniq_credit_policy_cat_version"
            ),
            models.UniqueConstraint(
                fields=["version"], condition=Q(category__isnull=True), name="uniq_credit_policy_default_version"
            ),
            models.UniqueConstraint(
                fields=["category"], condition=Q(is_current=True, category__isnull=False),
                name="uniq_credit_policy_current_per_cat",
            ),
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True, category__isnull=True),
                name="uniq_credit_policy_current_default",
            ),
            models.CheckConstraint(condition=Q(red_from__gt=models.F("yellow_from")), name="credit_policy_red_above_yellow"),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="credit_policy_window_positive"),
        ]

    def __str__(self):
        scope = self.category.name if self.category_id else _("全区默认")
        return f"{scope} v{self.version}"


class CreditFact(models.Model):
    """One thing that happened to a subject, posted by the app that knows it. Never deleted:
    a withdrawal is recorded on the row and the fact stops counting."""

    subject = models.ForeignKey(
        "grids.Subject", verbose_name=_("管理对象"), on_delete=models.PROTECT, related_name="credit_facts"
    )
    kind = models.CharField(_("类型"), max_length=32, choices=FactKind.choices)
    points = models.FloatField(_("分值"), null=True, blank=True, help_text=_("留空按规则的默认分值"))
    confirmed = models.BooleanField(_("已核实"), default=False)
    leniency = models.CharField(_("从轻情形"), max_length=16, choices=Leniency.choices, blank=True, default="")
    metric = models.CharField(_("监测指标"), max_length=32, blank=True)
    value = models.FloatField(_("监测值"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("发生时间"))
    # Where it came from: the poster's own record, by label and key, not a foreign key (credit may not
    # import the apps above it). Posting the same reference and kind again returns the first fact.
    source_app = models.CharField(_("来源应用"), max_length=50)
    source_model = models.CharField(_("来源模型"), max_length=50)
    source_pk = models.CharField(_("来源编号"), max_length=64)
    source_text = models.CharField(_("来源说明"), max_length=255, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_reason = models.CharField(_("撤销原因"), max_length=255, blank=True)
    # Contested (an appeal against the decision behind it is open): the fact still counts, and the
    # subject's credit says it is under review (复议/申诉中) until the poster ends the contest.
    contested_at = models.DateTimeField(_("复议/申诉中(起)"), null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("信用记录")
        verbose_name_plural = _("信用记录")
        constraints = [
            models.UniqueConstraint(
                fields=["source_app", "source_model", "source_pk", "kind"], name="uniq_credit_fact_source"
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | ~Q(withdrawn_reason=""), name="credit_fact_withdrawal_reason"
            ),
        ]
        indexes = [models.Index(fields=["subject", "occurred_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.source_ref}"

    @property
    def source_ref(self) -> str:
        return f"{self.source_app}.{self.source_model}:{self.source_pk}"


class CreditScore(models.Model):
    """The current score of one subject. `color` is what applies (an active override wins);
    `computed_color` is what the facts and the policy say."""

    subject = models.OneToOneField(
        "grids.Subject", primary_key=True, on_delete=models.CASCADE, related_name="credit_score"
    )
    score = models.FloatField(_("分数"), default=0)
    computed_color = models.CharField(_("计算颜色"), max_length=8, choices=Color.choices, default=Color.GREEN)
    color = models.CharField(_("颜色"), max_length=8, choices=Color.choices, default=Color.GREEN, db_index=True)
    reasons = models.JSONField(_("依据"), default=dict, blank=True)
    policy = models.ForeignKey(CreditPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    override = models.ForeignKey(
        "CreditOverride", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("信用评分")
        verbose_name_plural = _("信用评分")
        indexes = [models.Index(fields=["color", "score"])]

    def __str__(self):
        return f"{self.subject_id}: {self.color} ({self.score})"


class CreditHistory(models.Model):
    """Every change of a subject's colour: from, to, when and why."""

    subject = models.ForeignKey("grids.Subject", on_delete=models.CASCADE, related_name="credit_history")
    from_color = models.CharField(_("原颜色"), max_length=8, choices=Color.choices)
    to_color = models.CharField(_("新颜色"), max_length=8, choices=Color.choices)
    score = models.FloatField(_("分数"), default=0)
    changed_at = models.DateTimeField(_("时间"))
    cause = models.CharField(_("原因"), max_length=16, choices=HistoryCause.choices)
    detail = models.CharField(_("说明"), max_length=255, blank=True)
    fact = models.ForeignKey(CreditFact, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("信用颜色变化")
        verbose_name_plural = _("信用颜色变化")
        indexes = [models.Index(fields=["subject", "-changed_at"])]


class CreditOverride(models.Model):
    """A colour set by bureau staff, with a reason, until `expires_at` (or until revoked)."""

    subject = models.ForeignKey("grids.Subject", on_delete=models.PROTECT, related_name="credit_overrides")
    color = models.CharField(_("颜色"), max_length=8, choices=Color.choices)
    reason = models.CharField(_("原因"), max_length=255)
    expires_at = models.DateTimeField(_("到期时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.CharField(_("结束原因"), max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("信用人工调整")
        verbose_name_plural = _("信用人工调整")
        constraints = [
            # One live override per subject: a new one ends the previous one first.
            models.UniqueConstraint(
                fields=["subject"], condition=Q(ended_at__isnull=True), name="uniq_credit_override_live"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="credit_override_reason"),
        ]

    def __str__(self):
        return f"{self.subject_id} → {self.color}"


class SensorReading(models.Model):
    """A reading pushed by a monitor (fume, dust, noise…). One per device and time."""

    device_id = models.CharField(_("设备编号"), max_length=64)
    subject = models.ForeignKey("grids.Subject", on_delete=models.PROTECT, related_name="sensor_readings")
    metric = models.CharField(_("指标"), max_length=32)
    value = models.FloatField(_("数值"))
    measured_at = models.DateTimeField(_("监测时间"))
    received_at = models.DateTimeField(auto_now_add=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-measured_at", "-id"]
        verbose_name = _("监测数据")
        verbose_name_plural = _("监测数据")
        constraints = [
            models.UniqueConstraint(fields=["device_id", "measured_at"], name="uniq_sensor_device_time")
        ]
        indexes = [models.Index(fields=["subject", "metric", "measured_at"])]

    def __str__(self):
        return f"{self.device_id} {self.metric}={self.value}"


# Effort rules
class EffortRule(models.Model):
    """What a colour means for inspections (credit.effort): one row per colour, edited by bureau staff.
    Each colour uses its own fields; the others stay empty (the check constraints hold them to that)."""

    color = models.CharField(_("颜色"), max_length=8, choices=Color.choices, unique=True)
    reinspect_every_days = models.PositiveSmallIntegerField(_("复查间隔(天)"), null=True, blank=True)
    neighbour_radius_m = models.PositiveIntegerField(
        _("走访周边半径(米)"), null=True, blank=True, help_text=_("0 为不按距离走访")
    )
    neighbour_same_grid = models.BooleanField(_("走访同网格对象"), default=False)
    patrols_per_month = models.PositiveSmallIntegerField(_("每月例行巡查次数"), null=True, blank=True)
    lookback_days = models.PositiveSmallIntegerField(_("整改后回头看(天)"), null=True, blank=True)
    spot_check_percent = models.FloatField(_("每月随机抽查比例(%)"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("检查频次规则")
        verbose_name_plural = _("检查频次规则")
        constraints = [
            models.CheckConstraint(
                condition=~Q(color=Color.RED) | Q(
                    reinspect_every_days__gte=1, neighbour_radius_m__isnull=False,
                    patrols_per_month__isnull=True, lookback_days__isnull=True, spot_check_percent__isnull=True),
                name="effort_rule_red_fields",
            ),
            models.CheckConstraint(
                condition=~Q(color=Color.YELLOW) | Q(
                    patrols_per_month__isnull=False, lookback_days__gte=1, reinspect_every_days__isnull=True,
                    neighbour_radius_m__isnull=True, neighbour_same_grid=False, spot_check_percent__isnull=True),
                name="effort_rule_yellow_fields",
            ),
            models.CheckConstraint(
                condition=~Q(color=Color.GREEN) | Q(
                    spot_check_percent__gte=0, spot_check_percent__lte=100, reinspect_every_days__isnull=True,
                    neighbour_radius_m__isnull=True, neighbour_same_grid=False, patrols_per_month__isnull=True,
                    lookback_days__isnull=True),
                name="effort_rule_green_fields",
            ),
        ]

    def __str__(self):
        return f"{self.get_color_display()}"
