"""Casework (执法办案): cases, the matters each rests on, evidence, the full-process record, transfers,
appeals, the district's no-penalty lists and the case-file quality review.

Legal records: a case's number never changes, evidence and record lines are append-only (their
`save` refuses an update and `delete` refuses always), and every change of a case goes through
cases.services (one transaction, a record line, an audit entry, the version bumped for If-Match).
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.choices import (
    AppealKind, AppealResult, EvidenceKind, LenientGround, Origin, Outcome, PartyKind, Procedure, Status,
    Step, TransferStatus, TransferTarget,
)


class AppendOnly(models.Model):
    """Rows written once: never updated, never deleted (the full-process record)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError(f"{self._meta.label} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{self._meta.label} rows are append-only")


class CaseCounter(models.Model):
    """The last sequence number given per (street, year): locked by the filing transaction, so numbers
    neither repeat nor skip."""

    street = models.ForeignKey("grids.Area", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["street", "year"], name="case_counter_street_year")]


class Case(models.Model):
    number = models.CharField(_("案号"), max_length=64, unique=True)
    street = models.ForeignKey("grids.Area", verbose_name=_("镇街"), on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.FILED, db_index=True)
    procedure = models.CharField(_("程序"), max_length=16, choices=Procedure.choices, default=Procedure.GENERAL)
    version = models.PositiveIntegerField(_("版本"), default=1)
    # Where it came from: an event (by id: command_center sits above cases), an inspection finding (a
    # foreign key: cases sits above inspections; one case per finding), or directly.
    origin = models.CharField(_("案件来源"), max_length=16, choices=Origin.choices, default=Origin.DIRECT)
    origin_event_id = models.PositiveBigIntegerField(_("来源事件"), null=True, blank=True, db_index=True)
    finding = models.ForeignKey("inspections.Finding", verbose_name=_("来源检查发现"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="cases")
    origin_ref = models.CharField(_("来源说明"), max_length=255, blank=True)
    # The party: a subject of the registry, or a private person (name and ID number masked to all but
    # the handlers; never disclosed).
    party_kind = models.CharField(_("当事人类型"), max_length=16, choices=PartyKind.choices)
    subject = models.ForeignKey("grids.Subject", verbose_name=_("管理对象"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="cases")
    person_name = models.CharField(_("当事人姓名"), max_length=50, blank=True)
    person_id_number = models.CharField(_("身份证号"), max_length=32, blank=True)
    person_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    facts = models.TextField(_("违法事实"))
    facts_on = models.DateField(_("违法行为发生日"))
    catalog_version = models.ForeignKey("enforcement.CatalogVersion", verbose_name=_("事项清单版本"),
                                        on_delete=models.PROTECT, related_name="+")
    handlers = models.ManyToManyField("grids.Officer", verbose_name=_("承办人"), related_name="cases")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    filed_at = models.DateTimeField(_("立案时间"))
    # Deadlines: the current step's, and the decision's (the law: within 90 days of filing).
    step_due_at = models.DateTimeField(_("本环节期限"), null=True, blank=True, db_index=True)
    decision_due_at = models.DateTimeField(_("决定期限"))
    overdue = models.BooleanField(_("已超期"), default=False, db_index=True)
    reminded_at = models.DateTimeField(_("最近提醒"), null=True, blank=True)
    # The notice (事先告知) and the party's rights.
    notified_at = models.DateTimeField(_("告知时间"), null=True, blank=True)
    hearing_eligible = models.BooleanField(_("可申请听证"), default=False)
    hearing_held = models.BooleanField(_("已听证"), default=False)
    legal_review_required = models.BooleanField(_("需法制审核"), default=False)
    legal_review_passed = models.BooleanField(_("法制审核通过"), default=False)
    # The decision.
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                   blank=True)
    decision_text = models.TextField(_("决定内容"), blank=True)
    total_fine = models.DecimalField(_("罚款合计(元)"), max_digits=12, decimal_places=2, default=0)
    served_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    service_method = models.CharField(_("送达方式"), max_length=50, blank=True)
    executed_at = models.DateTimeField(_("执行时间"), null=True, blank=True)
    execution_note = models.CharField(_("执行情况"), max_length=500, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    # Disclosure (执法公示): published by `disclose_by` (N working days after the decision), kept until
    # `disclosed_until`; withdrawn if an appeal revokes the decision.
    disclose_by = models.DateTimeField(_("公示期限"), null=True, blank=True)
    disclosed_at = models.DateTimeField(_("公示时间"), null=True, blank=True, db_index=True)
    disclosed_until = models.DateTimeField(_("公示截止"), null=True, blank=True)
    disclosure_withdrawn_at = models.DateTimeField(_("撤回公示"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        constraints = [
            models.CheckConstraint(condition=Q(party_kind=PartyKind.PERSON) | Q(subject__isnull=False),
                                   name="case_business_party_has_subject"),
            models.CheckConstraint(condition=~Q(party_kind=PartyKind.PERSON) | ~Q(person_name=""),
                                   name="case_person_party_has_name"),
            models.CheckConstraint(condition=Q(origin=Origin.EVENT, origin_event_id__isnull=False)
                                   | ~Q(origin=Origin.EVENT), name="case_event_origin_has_event"),
            models.CheckConstraint(condition=Q(finding__isnull=True) | Q(origin=Origin.FINDING),
                                   name="case_finding_means_finding_origin"),
            models.UniqueConstraint(fields=["finding"], name="case_one_per_finding"),
        ]
        indexes = [models.Index(fields=["street", "status"])]

    def __str__(self):
        return self.number

    @property
    def etag(self) -> str:
        return f'"{self.pk}-v{self.version}"'


class CaseMatter(models.Model):
    """One matter of the case (综合罚一次: several departments' matters, one case, one decision) as the
    catalog version in force on the day of the facts had it, with its own outcome."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="matters")
    matter = models.ForeignKey("enforcement.Matter", verbose_name=_("事项"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("grids.Department", verbose_name=_("职权所属部门"), on_delete=models.PROTECT,
                                   related_name="+")
    outcome = models.CharField(_("处理结果"), max_length=16, choices=Outcome.choices, blank=True)
    lenient_ground = models.CharField(_("从轻情形"), max_length=16, choices=LenientGround.choices, blank=True)
    fine = models.DecimalField(_("罚款(元)"), max_digits=12, decimal_places=2, default=0)
    measures = models.CharField(_("其他处理措施"), max_length=255, blank=True)
    reason = models.CharField(_("理由"), max_length=500, blank=True)
    first_violation = models.BooleanField(_("首次违法"), default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "matter"], name="case_matter_once"),
            models.CheckConstraint(condition=Q(fine__gte=0), name="case_matter_fine_not_negative"),
        ]


class Evidence(AppendOnly):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(_("类型"), max_length=16, choices=EvidenceKind.choices)
    file = models.FileField(_("文件"), upload_to="cases/evidence/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(_("添加时间"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("证据")
        verbose_name_plural = _("证据")


class CaseRecord(AppendOnly):
    """The full-process record (全过程记录): every step, file, approval, view of personal data, export."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="records")
    step = models.CharField(_("环节"), max_length=32, choices=Step.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField(_("时间"))
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"])]
        verbose_name = _("办案记录")
        verbose_name_plural = _("办案记录")


class LenientListEntry(models.Model):
    """The district's no-penalty lists (免罚清单): which matters allow which lenient ground. Bureau staff
    edit it (admin); an entry is ended, never deleted, so old decisions keep their ground."""

    matter_code = models.CharField(_("事项编码"), max_length=64)
    ground = models.CharField(_("从轻情形"), max_length=16,
                              choices=[c for c in LenientGround.choices if c[0]])
    note = models.CharField(_("说明"), max_length=255, blank=True)
    active = models.BooleanField(_("有效"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["matter_code", "ground"]
        verbose_name = _("免罚清单条目")
        verbose_name_plural = _("免罚清单")
        constraints = [models.UniqueConstraint(fields=["matter_code", "ground"], name="lenient_entry_once")]

    def __str__(self):
        return f"{self.matter_code} {self.get_ground_display()}"


class Transfer(models.Model):
    """A case sent to another department or street (案件移送), waiting for the receiving side."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers")
    target = models.CharField(_("移送对象"), max_length=16, choices=TransferTarget.choices)
    to_street = models.ForeignKey("grids.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_department = models.ForeignKey("grids.Department", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    reason = models.CharField(_("移送理由"), max_length=500)
    status = models.CharField(_("状态"), max_length=16, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                    blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(status=TransferStatus.PENDING),
                                    name="transfer_one_pending_per_case"),
            models.CheckConstraint(condition=Q(target=TransferTarget.STREET, to_street__isnull=False)
                                   | Q(target=TransferTarget.DEPARTMENT, to_department__isnull=False),
                                   name="transfer_has_destination"),
        ]


class Appeal(models.Model):
    """A party contests a decision (复议/申诉); while open the subject's credit is "under review"."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="appeals")
    kind = models.CharField(_("类型"), max_length=16, choices=AppealKind.choices)
    grounds = models.TextField(_("理由"))
    lodged_at = models.DateTimeField(_("提出时间"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(_("办理期限"))
    # Set by the deadline check (cases.services.deadlines), as on Case: each notice goes out once.
    overdue = models.BooleanField(_("已超期"), default=False)
    reminded_at = models.DateTimeField(_("最近提醒"), null=True, blank=True)
    result = models.CharField(_("结果"), max_length=16, choices=AppealResult.choices, blank=True)
    result_note = models.CharField(_("结果说明"), max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                   blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-lodged_at"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(result=""), name="appeal_one_open_per_case"),
        ]


class ColorAppeal(models.Model):
    """A subject contests its credit colour alone (复议/申诉 against the colour, not a case's decision):
    the subject's live credit facts at lodging are marked contested (its credit shows "under review")
    until the outcome, which may withdraw all of them (revoked) or some (changed)."""

    subject = models.ForeignKey("grids.Subject", on_delete=models.PROTECT, related_name="color_appeals")
    kind = models.CharField(_("类型"), max_length=16, choices=AppealKind.choices)
    grounds = models.TextField(_("理由"))
    color = models.CharField(_("被申诉的颜色"), max_length=8)
    fact_ids = models.JSONField(_("所涉信用记录"), default=list)
    lodged_at = models.DateTimeField(_("提出时间"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(_("办理期限"))
    overdue = models.BooleanField(_("已超期"), default=False)  # as on Appeal
    reminded_at = models.DateTimeField(_("最近提醒"), null=True, blank=True)
    result = models.CharField(_("结果"), max_length=16, choices=AppealResult.choices, blank=True)
    result_note = models.CharField(_("结果说明"), max_length=500, blank=True)
    withdrawn_fact_ids = models.JSONField(_("撤回的信用记录"), default=list, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                   blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-lodged_at", "-id"]
        verbose_name = _("信用颜色复议/申诉")
        verbose_name_plural = _("信用颜色复议/申诉")
        constraints = [
            models.UniqueConstraint(fields=["subject"], condition=Q(result=""), name="color_appeal_one_open"),
        ]

    def __str__(self):
        return f"{self.subject_id} {self.color} {self.get_result_display()}"


class QualityChecklistItem(models.Model):
    """One line of the case-file quality review checklist (案卷评查), edited by bureau staff."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    text = models.CharField(_("评查内容"), max_length=255)
    max_points = models.PositiveSmallIntegerField(_("分值"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("案卷评查项目")
        verbose_name_plural = _("案卷评查项目")

    def __str__(self):
        return f"{self.code} {self.text}"


class QualityReview(models.Model):
    """A reviewer's scores of a closed case, item by item (kept as scored: the checklist may change)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="quality_reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scores = models.JSONField(_("各项得分"))  # [{"code", "text", "max", "points"}]
    total = models.PositiveSmallIntegerField(_("得分"))
    max_total = models.PositiveSmallIntegerField(_("满分"))
    comment = models.CharField(_("评语"), max_length=500, blank=True)
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["-reviewed_at"]
        constraints = [models.UniqueConstraint(fields=["case", "reviewer"], name="quality_review_once_per_reviewer")]
