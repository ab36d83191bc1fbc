"""Inspect once in practice (综合查一次): monthly joint plans, visits, findings, rectifications.

The rule "at most one concentrated inspection per subject per calendar month" lives in the database:
`Visit.month` (the first day of the visit's month) and a partial unique constraint on (subject, month)
for concentrated visits. One-off visits (complaint, event, emergency) are outside it.

A completed visit and its findings are legal records: never edited or deleted. A correction is a new
Finding linked to the one it corrects (`corrects`), with the reason; the visit's current findings are
those no later finding corrects.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inspections.choices import (
    DueReason, OneOffReason, PlanStatus, RectificationKind, RectificationStatus, Result, VisitKind, VisitStatus,
)


class LegalRecordError(ValueError):
    """A write that would edit or delete a legal record (a completed visit, a finding, its photo)."""


class InspectionPlan(models.Model):
    street = models.ForeignKey("grids.Area", verbose_name=_("镇街"), on_delete=models.PROTECT,
                               related_name="inspection_plans")
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    status = models.CharField(_("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    # 双随机: the seed of the plan's random inspector draws (each spot check's seed derives from it).
    draw_seed = models.CharField(_("随机种子"), max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    amendments = models.PositiveIntegerField(_("批准后修改次数"), default=0)
    # Due subjects no officer had room for (per-officer daily cap): [{"subject", "reason"}, …].
    unscheduled = models.JSONField(_("未能排入"), default=list, blank=True)

    class Meta:
        ordering = ["-month", "street_id"]
        verbose_name = _("月度综合查一次计划")
        verbose_name_plural = _("月度综合查一次计划")
        constraints = [
            models.UniqueConstraint(fields=["street", "month"], name="inspection_plan_one_per_street_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="inspection_plan_month_first_day"),
        ]

    def __str__(self):
        return f"{self.street_id} {self.month:%Y-%m}"


class Visit(models.Model):
    plan = models.ForeignKey(InspectionPlan, verbose_name=_("计划"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="visits")
    street = models.ForeignKey("grids.Area", verbose_name=_("镇街"), on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey("grids.Subject", verbose_name=_("管理对象"), on_delete=models.PROTECT,
                                related_name="inspection_visits")
    date = models.DateField(_("检查日期"), db_index=True)
    month = models.DateField(_("月份"), editable=False)
    kind = models.CharField(_("类型"), max_length=16, choices=VisitKind.choices, default=VisitKind.CONCENTRATED)
    one_off_reason = models.CharField(_("专项原因"), max_length=16, choices=OneOffReason.choices, blank=True)
    reason = models.CharField(_("列入原因"), max_length=20, choices=DueReason.choices)
    reason_text = models.CharField(_("原因说明"), max_length=500, blank=True)
    officers = models.ManyToManyField("grids.Officer", verbose_name=_("检查人员"), related_name="inspection_visits")
    departments = models.ManyToManyField("grids.Department", verbose_name=_("涉及部门"), related_name="+")
    item_count = models.PositiveSmallIntegerField(_("检查条目数"), default=0)
    route_order = models.PositiveIntegerField(_("路线顺序"), default=0)
    draw_seed = models.CharField(_("随机抽取种子"), max_length=80, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=VisitStatus.choices, default=VisitStatus.PLANNED,
                              db_index=True)
    # The finding whose rectification this visit re-inspects (REINSPECTION visits).
    reinspects = models.ForeignKey("Finding", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    representative_name = models.CharField(_("对象代表姓名"), max_length=50, blank=True)
    representative_refused = models.BooleanField(_("拒绝签字"), default=False)
    signature = models.FileField(_("签名"), upload_to="inspections/signatures/%Y/%m/", blank=True)
    signature_client_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "route_order", "id"]
        verbose_name = _("检查")
        verbose_name_plural = _("检查")
        constraints = [
            # THE RULE (一月一次): one concentrated inspection per subject per calendar month.
            models.UniqueConstraint(fields=["subject", "month"], condition=Q(kind="concentrated"),
                                    name="inspection_one_concentrated_visit_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="inspection_visit_month_first_day"),
            models.CheckConstraint(
                condition=(Q(kind="concentrated", one_off_reason="") | (Q(kind="one_off") & ~Q(one_off_reason=""))),
                name="inspection_visit_one_off_has_reason"),
        ]
        indexes = [models.Index(fields=["street", "date"]), models.Index(fields=["plan", "date"])]

    def __str__(self):
        return f"{self.subject_id} {self.date}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding and (
                Visit.objects.filter(pk=self.pk, status=VisitStatus.COMPLETED).exists()):
            raise LegalRecordError(f"visit {self.pk} is completed: a legal record, never edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status == VisitStatus.COMPLETED or self.findings.exists():
            raise LegalRecordError(f"visit {self.pk} has findings: a legal record, never deleted")
        return super().delete(*args, **kwargs)


class Finding(models.Model):
    """One checklist item as recorded on a visit. `client_id` (made by the phone) makes a resend idempotent."""

    visit = models.ForeignKey(Visit, verbose_name=_("检查"), on_delete=models.PROTECT, related_name="findings")
    client_id = models.CharField(_("客户端编号"), max_length=64, unique=True)
    item_code = models.CharField(_("条目编码"), max_length=64)
    item_text = models.CharField(_("检查内容"), max_length=500)
    matter_code = models.CharField(_("事项编码"), max_length=64, blank=True)
    department = models.ForeignKey("grids.Department", verbose_name=_("部门"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    weight = models.PositiveSmallIntegerField(_("分值"), default=1)
    result = models.CharField(_("结果"), max_length=8, choices=Result.choices)
    note = models.CharField(_("说明"), max_length=1000, blank=True)
    rectification = models.CharField(_("整改方式"), max_length=16, choices=RectificationKind.choices, blank=True)
    comply_by = models.DateField(_("整改期限"), null=True, blank=True)
    rectification_status = models.CharField(_("整改状态"), max_length=16, choices=RectificationStatus.choices,
                                            blank=True, db_index=True)
    rectified_at = models.DateTimeField(_("整改完成时间"), null=True, blank=True)
    # Set once, by the conditional UPDATE that raises the overdue event: the guard of "exactly once".
    overdue_raised_at = models.DateTimeField(null=True, blank=True)
    corrects = models.OneToOneField("self", verbose_name=_("更正的记录"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="corrected_by")
    correction_reason = models.CharField(_("更正原因"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["visit_id", "id"]
        verbose_name = _("检查发现")
        verbose_name_plural = _("检查发现")
        constraints = [
            models.CheckConstraint(
                condition=Q(result="fail") | Q(rectification=""), name="finding_rectification_only_on_fail"),
            models.CheckConstraint(
                condition=~Q(rectification="deadline") | Q(comply_by__isnull=False),
                name="finding_deadline_has_date"),
            models.CheckConstraint(condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                                   name="finding_correction_has_reason"),
        ]

    def __str__(self):
        return f"{self.item_code} {self.result}"

    # What may change on a recorded finding: its rectification's progress, nothing it records.
    PROGRESS_FIELDS = frozenset({"rectification_status", "rectified_at", "overdue_raised_at"})

    def save(self, *args, **kwargs):
        fields = kwargs.get("update_fields")
        if not self._state.adding and (fields is None or not set(fields) <= self.PROGRESS_FIELDS):
            raise LegalRecordError("a finding is a legal record: correct it with a new, linked finding")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LegalRecordError("a finding is a legal record: never deleted")


class FindingPhoto(models.Model):
    """A photo of a finding: a file under MEDIA_ROOT (served only to those who may see the visit) with
    its SHA-256, size and name, who and when: the shape of case evidence. Never edited or deleted."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="photos")
    client_id = models.CharField(max_length=64, unique=True)
    image = models.FileField(_("文件"), upload_to="inspections/photos/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("大小"), default=0)
    content_type = models.CharField(max_length=32)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("检查照片")
        verbose_name_plural = _("检查照片")

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LegalRecordError("a finding's photo is evidence: never edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LegalRecordError("a finding's photo is evidence: never deleted")


class Reinspection(models.Model):
    """The officer's re-inspection of a deadline rectification: done or not."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="reinspections")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="reinspections")
    rectified = models.BooleanField(_("已整改"))
    note = models.CharField(_("说明"), max_length=1000, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("复查")
        verbose_name_plural = _("复查")


class Referral(models.Model):
    """"Refer to case": a finding that needs a penalty; the casework app picks it up."""

    finding = models.OneToOneField(Finding, on_delete=models.PROTECT, related_name="referral")
    note = models.CharField(_("说明"), max_length=1000, blank=True)
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    referred_at = models.DateTimeField(auto_now_add=True)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-referred_at"]
        verbose_name = _("移送立案")
        verbose_name_plural = _("移送立案")


class ComplyByDefault(models.Model):
    """Default comply-by days for a deadline rectification, by the item's weight (bureau staff edit them):
    the row with the highest `min_weight` not above the item's weight applies."""

    min_weight = models.PositiveSmallIntegerField(_("最低分值"), unique=True)
    days = models.PositiveSmallIntegerField(_("整改天数"))

    class Meta:
        ordering = ["min_weight"]
        verbose_name = _("整改期限默认值")
        verbose_name_plural = _("整改期限默认值")
        constraints = [models.CheckConstraint(condition=Q(days__gte=1, days__lte=365), name="comply_by_days_range")]


class ComplyByItem(models.Model):
    """A checklist item's own comply-by days (bureau staff), before the weight's default applies."""

    item_code = models.CharField(_("条目编码"), max_length=64, unique=True)
    days = models.PositiveSmallIntegerField(_("整改天数"))

    class Meta:
        ordering = ["item_code"]
        verbose_name = _("检查条目整改期限")
        verbose_name_plural = _("检查条目整改期限")
        constraints = [models.CheckConstraint(condition=Q(days__gte=1, days__lte=365),
                                              name="comply_by_item_days_range")]


class PlanRules(models.Model):
    """The district's plan rules bureau staff set on /inspections/rules/: one row (pk 1). A field left
    empty falls back to its setting (INSPECTIONS_DAILY_CAP)."""

    daily_cap = models.PositiveSmallIntegerField(_("每人每日检查上限"), null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("检查计划规则")
        verbose_name_plural = _("检查计划规则")
        constraints = [
            models.CheckConstraint(condition=Q(daily_cap__isnull=True) | Q(daily_cap__gte=1, daily_cap__lte=50),
                                   name="plan_rules_daily_cap_range"),
            models.CheckConstraint(condition=Q(pk=1), name="plan_rules_single_row"),
        ]

    def __str__(self):
        return "plan rules"
