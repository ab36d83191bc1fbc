"""Serializers translate; the rules live in cases.services and cases.selectors."""
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases import selectors
from cases.choices import (
    AppealKind, AppealResult, EvidenceKind, LegalOpinion, LenientGround, Outcome, PartyKind, Procedure, TransferTarget,
)
from cases.models import Case, ColorAppeal
from cases.services import NOTE_MAX, TEXT_MAX
from core.api.fields import RejectUnknownFieldsMixin
from core.ids import MAX_ID
from core.masking import mask_personal_text, mask_value

AMOUNT = {"max_digits": 12, "decimal_places": 2, "min_value": 0, "coerce_to_string": False}


# --- input ------------------------------------------------------------------------------------

class CaseInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    finding = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True,
                                       help_text=_("来源检查发现（不合格项）：由它带出管理对象、镇街、事项、事实和发生日"))
    party_kind = serializers.ChoiceField(choices=PartyKind.choices, required=False,
                                         help_text=_("直接立案必填；从检查发现立案时缺省为单位"))
    subject = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True,
                                       help_text=_("管理对象（单位当事人必填）"))
    street = serializers.CharField(max_length=32, required=False, allow_blank=True,
                                   help_text=_("镇街编码（个人当事人且无管理对象时必填）"))
    person_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    person_id_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    person_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    matter_codes = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=20,
                                         help_text=_("直接立案必填；从检查发现立案时缺省为该检查条目的事项"))
    facts = serializers.CharField(max_length=TEXT_MAX, required=False,
                                  help_text=_("直接立案必填；从检查发现立案时缺省为检查记录"))
    facts_on = serializers.DateField(required=False,
                                     help_text=_("违法行为发生日：按当日有效的事项清单版本立案（从检查发现立案时缺省为检查日）"))
    handler_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1,
                                        max_length=10, help_text=_("承办人（执法队员编号，不少于两人）"))
    procedure = serializers.ChoiceField(choices=Procedure.choices, required=False, default=Procedure.GENERAL)

    def validate(self, attrs):
        if attrs.get("finding"):
            taken = [f for f in ("subject", "street") if attrs.get(f)]
            if taken:
                raise serializers.ValidationError({f: [_("从检查发现立案时由检查发现带出，不能另填。")] for f in taken})
        else:
            missing = [f for f in ("party_kind", "matter_codes", "facts", "facts_on") if not attrs.get(f)]
            if missing:
                raise serializers.ValidationError({f: [_("该字段是必填项。")] for f in missing})
        return attrs


class EventCaseInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Filing a case from an event: the event gives the subject, street, matter, facts and their day;
    the body names the handlers and may override or complete the rest."""

    handler_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1,
                                        max_length=10, help_text=_("承办人（执法队员编号，不少于两人）"))
    party_kind = serializers.ChoiceField(choices=PartyKind.choices, required=False,
                                         help_text=_("缺省：事件关联了管理对象时为单位，否则为个人"))
    person_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    person_id_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    person_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    matter_codes = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=20,
                                         help_text=_("缺省：事件的执法事项"))
    facts = serializers.CharField(max_length=TEXT_MAX, required=False, help_text=_("缺省：事件描述"))
    procedure = serializers.ChoiceField(choices=Procedure.choices, required=False, default=Procedure.GENERAL)


class OutcomeSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    matter_code = serializers.CharField(max_length=64)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    fine = serializers.DecimalField(required=False, default=0, **AMOUNT)
    measures = serializers.CharField(max_length=255, required=False, allow_blank=True, help_text=_("如：警告、没收"))
    lenient_ground = serializers.ChoiceField(choices=LenientGround.choices, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True)


class SubmitInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    outcomes = OutcomeSerializer(many=True, help_text=_("本案每个事项的拟处理结果"))
    note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True)


class DecideInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    outcomes = OutcomeSerializer(many=True, help_text=_("本案每个事项的处理结果（综合罚一次：一份决定）"))
    decision_text = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True)


class NoteInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True)


class RequiredNoteInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX)


class ReasonInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=NOTE_MAX)


class LegalReviewInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    opinion = serializers.ChoiceField(choices=LegalOpinion.choices)
    reasons = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True,
                                    help_text=_("退回时必填"))


class ServeInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    method = serializers.CharField(max_length=50, help_text=_("送达方式：直接送达、留置送达、邮寄送达等"))


class StatementInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    statement = serializers.CharField(max_length=TEXT_MAX)
    adopted = serializers.BooleanField(required=False, default=False)


class HearingInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    held_on = serializers.DateField()
    summary = serializers.CharField(max_length=TEXT_MAX)


class TransferInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    target = serializers.ChoiceField(choices=TransferTarget.choices)
    to_street = serializers.CharField(max_length=32, required=False, allow_blank=True)
    to_department = serializers.CharField(max_length=32, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=NOTE_MAX)


class AcceptTransferInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    accept = serializers.BooleanField()
    note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True, help_text=_("拒绝时必填"))
    handler_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False,
                                        max_length=10, help_text=_("接收街道的承办人（移送镇街时必填，不少于两人）"))


class AppealInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=AppealKind.choices)
    grounds = serializers.CharField(max_length=TEXT_MAX)
    lodged_on = serializers.DateField(required=False, allow_null=True)


class AppealDecisionInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    result = serializers.ChoiceField(choices=[c for c in AppealResult.choices if c[0]])
    note = serializers.CharField(max_length=NOTE_MAX)


class ColorAppealInputSerializer(AppealInputSerializer):
    subject = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("管理对象"))


class ColorAppealDecisionInputSerializer(AppealDecisionInputSerializer):
    withdraw_fact_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=1000,
        help_text=_("变更时撤回的信用记录（须在本次申诉范围内）；撤销时撤回全部，维持时不撤回"))


class ColorAppealSerializer(serializers.ModelSerializer):
    subject_name = serializers.CharField(source="subject.name", read_only=True)

    class Meta:
        model = ColorAppeal
        fields = ["id", "subject", "subject_name", "kind", "grounds", "color", "fact_ids", "lodged_at", "due_at",
                  "result", "result_note", "withdrawn_fact_ids", "decided_at"]
        read_only_fields = fields


class EvidenceInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class QualityReviewInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    scores = serializers.DictField(child=serializers.IntegerField(min_value=0, max_value=1000),
                                   help_text=_("评查项目编码 → 得分"))
    comment = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True)


# --- output -----------------------------------------------------------------------------------

class CaseMatterSerializer(serializers.Serializer):
    code = serializers.CharField(source="matter.code")
    name = serializers.CharField(source="matter.name")
    legal_basis = serializers.CharField(source="matter.legal_basis")
    department = serializers.CharField(source="department.code", help_text=_("该部分所依据职权的部门"))
    department_name = serializers.CharField(source="department.name")
    major_decision = serializers.BooleanField(source="matter.major_decision")
    fine_min = serializers.DecimalField(source="matter.fine_min", allow_null=True, **AMOUNT)
    fine_max = serializers.DecimalField(source="matter.fine_max", allow_null=True, **AMOUNT)
    first_violation = serializers.BooleanField(help_text=_("立案时系统查得：该对象此前未因该事项受过处罚"))
    outcome = serializers.CharField()
    lenient_ground = serializers.CharField()
    fine = serializers.DecimalField(**AMOUNT)
    measures = serializers.CharField()
    reason = serializers.CharField()


class CaseSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    street = serializers.CharField(source="street.code")
    street_name = serializers.CharField(source="street.name")
    party = serializers.SerializerMethodField(help_text=_("单位名称；个人当事人的姓名仅承办人可见全文"))
    matter_codes = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["id", "number", "status", "status_label", "procedure", "origin", "origin_event_id", "finding", "street",
                  "street_name", "party_kind", "subject", "party", "matter_codes", "filed_at", "step_due_at",
                  "decision_due_at", "overdue", "decided_at", "total_fine", "version"]

    def _full(self, case) -> bool:
        return bool(self.context.get("full_party"))

    def get_party(self, case) -> str:
        return selectors.party_label(case, full=self._full(case))

    def get_matter_codes(self, case) -> list[str]:
        return [m.matter.code for m in case.matters.all()]


class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    note = serializers.CharField()
    added_by = serializers.CharField(source="added_by.username")
    added_at = serializers.DateTimeField()


class RecordSerializer(serializers.Serializer):
    step = serializers.CharField()
    step_label = serializers.CharField(source="get_step_display")
    actor = serializers.CharField(source="actor_label")
    at = serializers.DateTimeField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.SerializerMethodField()

    def get_note(self, row) -> str:
        return row.note if self.context.get("full_party") else mask_personal_text(row.note)


class TransferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    target = serializers.CharField()
    to_street = serializers.CharField(source="to_street.code", allow_null=True, default=None)
    to_department = serializers.CharField(source="to_department.code", allow_null=True, default=None)
    reason = serializers.CharField()
    status = serializers.CharField()
    requested_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    answer_note = serializers.CharField()


class AppealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    grounds = serializers.CharField()
    lodged_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    result = serializers.CharField()
    result_note = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)


class QualityReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = serializers.CharField(source="reviewer.username")
    scores = serializers.JSONField()
    total = serializers.IntegerField()
    max_total = serializers.IntegerField()
    comment = serializers.CharField()
    reviewed_at = serializers.DateTimeField()


class HandlerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    badge_no = serializers.CharField()


class CaseDetailSerializer(CaseSerializer):
    finding_item = serializers.CharField(source="finding.item_text", default=None, allow_null=True,
                                         help_text=_("来源检查发现的检查内容"))
    finding_visit = serializers.IntegerField(source="finding.visit_id", default=None, allow_null=True)
    facts = serializers.SerializerMethodField(help_text=_("电话、身份证号、车牌仅承办人可见全文"))
    person_name = serializers.SerializerMethodField()
    person_id_number = serializers.SerializerMethodField()
    person_phone = serializers.SerializerMethodField()
    catalog_version = serializers.IntegerField(source="catalog_version.number")
    matters = CaseMatterSerializer(many=True)
    handlers = HandlerSerializer(many=True)
    evidence = EvidenceSerializer(many=True)
    records = RecordSerializer(many=True)
    transfers = TransferSerializer(many=True)
    appeals = AppealSerializer(many=True)
    quality_reviews = QualityReviewSerializer(many=True)

    class Meta(CaseSerializer.Meta):
        fields = CaseSerializer.Meta.fields + [
            "origin_ref", "finding_item", "finding_visit", "person_name", "person_id_number", "person_phone", "facts",
            "facts_on", "catalog_version",
            "matters", "handlers", "evidence", "records", "transfers", "appeals", "quality_reviews", "notified_at",
            "hearing_eligible", "hearing_held", "legal_review_required", "legal_review_passed", "decision_text",
            "served_at", "service_method", "executed_at", "execution_note", "closed_at", "disclose_by",
            "disclosed_at", "disclosed_until", "disclosure_withdrawn_at",
        ]

    def _person(self, value) -> str:
        return value if self.context.get("full_party") else mask_value(value)

    def get_facts(self, case) -> str:
        return case.facts if self.context.get("full_party") else mask_personal_text(case.facts)

    def get_person_name(self, case) -> str:
        return self._person(case.person_name)

    def get_person_id_number(self, case) -> str:
        return self._person(case.person_id_number)

    def get_person_phone(self, case) -> str:
        return self._person(case.person_phone)


class DisclosureSerializer(serializers.Serializer):
    """What the public sees of a decision (执法公示): never a private person's name, ID number or phone."""

    number = serializers.CharField()
    street_name = serializers.CharField(source="street.name")
    party = serializers.SerializerMethodField()
    party_kind = serializers.CharField()
    matters = serializers.SerializerMethodField()
    total_fine = serializers.DecimalField(**AMOUNT)
    decided_at = serializers.DateTimeField()
    disclosed_at = serializers.DateTimeField()
    disclosed_until = serializers.DateTimeField()

    def get_party(self, case) -> str:
        return case.subject.name if case.party_kind == PartyKind.BUSINESS and case.subject_id else str(_("个人"))

    def get_matters(self, case) -> list[dict]:
        return [{"name": m.matter.name, "legal_basis": m.matter.legal_basis, "department": m.department.name,
                 "outcome": m.get_outcome_display(), "lenient_ground": m.get_lenient_ground_display() if m.lenient_ground
                 else "", "fine": str(m.fine), "measures": m.measures} for m in case.matters.all()]


class _ScoreRow(serializers.Serializer):
    name = serializers.CharField()
    reviews = serializers.IntegerField()
    average_percent = serializers.FloatField()


class TeamScoreSerializer(_ScoreRow):
    team = serializers.CharField()


class HandlerScoreSerializer(_ScoreRow):
    officer = serializers.IntegerField()


class QualityScoresSerializer(serializers.Serializer):
    teams = TeamScoreSerializer(many=True)
    handlers = HandlerScoreSerializer(many=True)
