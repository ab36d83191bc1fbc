"""Analytics writes only its own records: hot-area warnings (热点预警). Every figure is computed from what
the other apps record (selectors/), never stored twice."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from analytics.choices import OPEN_WARNING_STATUSES, WarningStatus


class HotspotWarning(models.Model):
    """A grid where one problem type is reported far above its own baseline. One episode, one warning:
    the database allows a single open (raised or acknowledged) warning per grid and problem type; it
    expires when the count falls back, and a later rise is a new episode."""

    grid = models.ForeignKey("grids.Area", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey("grids.Area", verbose_name=_("镇街"), null=True, on_delete=models.PROTECT,
                               related_name="+")
    path = models.CharField(_("区域路径"), max_length=255, db_index=True)  # the grid's, for scoping
    problem_type_code = models.CharField(_("问题类型编码"), max_length=64)
    problem_type_name = models.CharField(_("问题类型"), max_length=100, blank=True)
    window_start = models.DateTimeField(_("统计窗口开始"))
    window_end = models.DateTimeField(_("统计窗口结束"))
    count = models.PositiveIntegerField(_("窗口内事件数"))
    baseline = models.FloatField(_("基线（每窗口均值）"))
    p_value = models.FloatField(_("P值"))
    peak_count = models.PositiveIntegerField(_("最高事件数"))
    status = models.CharField(_("状态"), max_length=16, choices=WarningStatus.choices, default=WarningStatus.RAISED)
    raised_at = models.DateTimeField(_("预警时间"), db_index=True)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("确认人"), null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("确认说明"), max_length=500, blank=True)
    expired_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("热点预警")
        verbose_name_plural = _("热点预警")
        constraints = [
            models.UniqueConstraint(fields=["grid", "problem_type_code"],
                                    condition=Q(status__in=[s.value for s in OPEN_WARNING_STATUSES]),
                                    name="analytics_one_open_warning_per_grid_and_type"),
            models.CheckConstraint(condition=Q(window_end__gt=models.F("window_start")),
                                   name="analytics_warning_window_forward"),
        ]

    def __str__(self):
        return f"{self.problem_type_name or self.problem_type_code} @ {self.grid_id}"


class AssessmentWeight(models.Model):
    """The weight bureau staff give one indicator of the monthly assessment (智慧化考核). An indicator
    without a row weighs its default (analytics.selectors.assessment.DEFAULT_WEIGHTS)."""

    indicator = models.CharField(_("指标"), max_length=32, unique=True)
    weight = models.FloatField(_("权重"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("更新人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["indicator"]
        verbose_name = _("考核权重")
        verbose_name_plural = _("考核权重")
        constraints = [models.CheckConstraint(condition=Q(weight__gte=0) & Q(weight__lte=100),
                                              name="analytics_weight_0_100")]

    def __str__(self):
        return f"{self.indicator}: {self.weight}"
