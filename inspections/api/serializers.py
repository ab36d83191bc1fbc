"""Serializers translate; the rules live in inspections.services and selectors."""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import RejectUnknownFieldsMixin
from core.ids import MAX_ID
from inspections.choices import OneOffReason, RectificationKind, Result, VisitKind

ID = dict(min_value=1, max_value=MAX_ID)
CLIENT_ID = dict(max_length=64, help_text=_("客户端生成的编号（重发时相同，服务器不会重复创建）"))


# --- input -------------------------------------------------------------------------------------

class PlanInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    street = serializers.CharField(max_length=32, help_text=_("镇街编码"))
    month = serializers.RegexField(r"^\d{4}-\d{2}$", max_length=7, help_text="YYYY-MM")
    subjects = serializers.ListField(child=serializers.IntegerField(**ID), required=False, max_length=500,
                                     help_text=_("手工添加的管理对象ID"))


class VisitInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    subject = serializers.IntegerField(**ID)
    date = serializers.DateField()
    officers = serializers.ListField(child=serializers.IntegerField(**ID), min_length=1, max_length=20)
    kind = serializers.ChoiceField(choices=VisitKind.choices, required=False, default=VisitKind.CONCENTRATED)
    one_off_reason = serializers.ChoiceField(choices=OneOffReason.choices, required=False, default="")
    reason_text = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class StandaloneVisitInputSerializer(VisitInputSerializer):
    street = serializers.CharField(max_length=32, help_text=_("镇街编码"))
    kind = serializers.ChoiceField(choices=VisitKind.choices, required=False, default=VisitKind.ONE_OFF)


class VisitMoveSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    date = serializers.DateField(required=False)
    officers = serializers.ListField(child=serializers.IntegerField(**ID), min_length=1, max_length=20,
                                     required=False)


class FindingInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    client_id = serializers.CharField(**CLIENT_ID)
    item = serializers.CharField(max_length=64, help_text=_("检查条目编码（见 items）"))
    result = serializers.ChoiceField(choices=Result.choices)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    rectification = serializers.ChoiceField(choices=RectificationKind.choices, required=False, default="")
    comply_by = serializers.DateField(required=False, allow_null=True, default=None)
    correction_reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


@extend_schema_field({"type": "string", "format": "binary"})
class ImageOrDataUrlField(serializers.Field):
    """The photo itself (multipart file, what the phone sends) or, in a JSON body, a data URL. Its content
    is checked by the service (core.files)."""

    MAX_TEXT = 12 * 1024 * 1024

    def to_internal_value(self, data):
        if hasattr(data, "read"):
            return data
        if isinstance(data, str) and data and len(data) <= self.MAX_TEXT:
            return data
        raise serializers.ValidationError(_("请上传照片文件（JPEG/PNG/WebP），或提供 data URL。"))

    def to_representation(self, value):
        return None


class PhotoInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    client_id = serializers.CharField(**CLIENT_ID)
    finding = serializers.CharField(max_length=64, help_text=_("所属检查记录的客户端编号"))
    image = ImageOrDataUrlField(help_text=_("照片文件（multipart，JPEG/PNG/WebP）或 data URL"))


class CompleteInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    client_id = serializers.CharField(**CLIENT_ID)
    representative_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    signature = serializers.CharField(max_length=2 * 1024 * 1024, required=False, allow_blank=True, default="",
                                      help_text=_("签名 PNG 的 data URL"))
    refused = serializers.BooleanField(required=False, default=False)


class ReinspectInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    finding = serializers.CharField(max_length=64, help_text=_("限期整改记录的客户端编号"))
    rectified = serializers.BooleanField()
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ReferralInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    finding = serializers.CharField(max_length=64, help_text=_("不合格记录的客户端编号"))
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


# --- output ------------------------------------------------------------------------------------

class OfficerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class VisitRowSerializer(serializers.Serializer):
    """A visit as the plan and the lists show it (officers and departments prefetched)."""

    id = serializers.IntegerField()
    plan = serializers.IntegerField(source="plan_id", allow_null=True)
    street = serializers.CharField(source="street.code")
    subject = serializers.IntegerField(source="subject_id")
    subject_name = serializers.CharField(source="subject.name")
    lat = serializers.FloatField(source="subject.lat")
    lng = serializers.FloatField(source="subject.lng")
    date = serializers.DateField()
    officers = serializers.SerializerMethodField()
    departments = serializers.SerializerMethodField()
    item_count = serializers.IntegerField()
    kind = serializers.CharField()
    one_off_reason = serializers.CharField()
    reason = serializers.CharField()
    reason_label = serializers.CharField(source="get_reason_display")
    reason_text = serializers.CharField()
    route_order = serializers.IntegerField()
    status = serializers.CharField()
    draw_seed = serializers.CharField()

    @extend_schema_field(OfficerRefSerializer(many=True))
    def get_officers(self, obj):
        return [{"id": o.pk, "name": o.name} for o in obj.officers.all()]

    def get_departments(self, obj) -> list[str]:
        return [d.code for d in obj.departments.all()]


class PlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    visits_planned = serializers.IntegerField(source="figures.visits_planned")
    separate_visits_replaced = serializers.IntegerField(source="figures.separate_visits_replaced")
    reduction_percent = serializers.FloatField(source="figures.reduction_percent")
    one_off_visits = serializers.IntegerField(source="figures.one_off_visits")
    street = serializers.CharField(source="street.code")
    street_name = serializers.CharField(source="street.name")
    month = serializers.SerializerMethodField()
    status = serializers.CharField()
    draw_seed = serializers.CharField()
    amendments = serializers.IntegerField()
    approved_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_month(self, obj) -> str:
        return f"{obj.month:%Y-%m}"


class UnscheduledSerializer(serializers.Serializer):
    """A due subject the planner could not place; the leader places it (POST …/visits/ with the subject)
    or the next month's draft takes it up first."""
    subject = serializers.IntegerField()
    subject_name = serializers.CharField()
    reason = serializers.CharField(help_text=_("列入原因（到期原因）"))
    reason_label = serializers.CharField()
    reason_text = serializers.CharField()
    why = serializers.CharField(help_text=_("未能排入的原因"))
    why_label = serializers.CharField()
    carried_to_next_month = serializers.BooleanField()


class PlanDetailSerializer(PlanSerializer):
    visits = VisitRowSerializer(many=True, source="visit_rows")
    unscheduled = UnscheduledSerializer(many=True, source="unscheduled_rows")


class PhotoRefSerializer(serializers.Serializer):
    """A stored photo: its file is served (to those who may see the visit) at `url`."""
    id = serializers.IntegerField()
    client_id = serializers.CharField()
    url = serializers.SerializerMethodField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()

    def get_url(self, obj) -> str:
        return reverse("inspections:photo", args=[obj.finding.visit_id, obj.pk])


class FindingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client_id = serializers.CharField()
    item = serializers.CharField(source="item_code")
    item_text = serializers.CharField()
    department = serializers.CharField(source="department.code", allow_null=True, default=None)
    weight = serializers.IntegerField()
    result = serializers.CharField()
    note = serializers.CharField()
    rectification = serializers.CharField()
    comply_by = serializers.DateField(allow_null=True)
    rectification_status = serializers.CharField()
    rectified_at = serializers.DateTimeField(allow_null=True)
    corrects = serializers.IntegerField(source="corrects_id", allow_null=True)
    correction_reason = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class FindingDetailSerializer(FindingSerializer):
    photos = PhotoRefSerializer(many=True)
    current = serializers.SerializerMethodField()

    def get_current(self, obj) -> bool:
        return not hasattr(obj, "corrected_by") or obj.corrected_by is None


class VisitListSerializer(VisitRowSerializer):
    finding_count = serializers.IntegerField()
    failed_count = serializers.IntegerField()


class VisitDetailSerializer(VisitListSerializer):
    representative_name = serializers.CharField()
    representative_refused = serializers.BooleanField()
    has_signature = serializers.SerializerMethodField()
    completed_at = serializers.DateTimeField(allow_null=True)
    findings = FindingDetailSerializer(many=True)

    def get_has_signature(self, obj) -> bool:
        return bool(obj.signature)


class VisitChecklistItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    matter_code = serializers.CharField()
    department = serializers.CharField()
    department_name = serializers.CharField()
    area = serializers.CharField()
    weight = serializers.IntegerField()


class ReinspectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    finding = serializers.CharField(source="finding.client_id")
    rectified = serializers.BooleanField()
    note = serializers.CharField()
    rectification_status = serializers.CharField(source="finding.rectification_status")


class ReferralSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    finding = serializers.CharField(source="finding.client_id")
    note = serializers.CharField()
    referred_at = serializers.DateTimeField()


class PublicResultSerializer(serializers.Serializer):
    """A completed spot check as published (双随机、一公开): the business, never a person."""

    id = serializers.IntegerField()
    date = serializers.DateField()
    street = serializers.CharField(source="street.name")
    subject_name = serializers.CharField(source="subject.name")
    category = serializers.CharField(source="subject.category.name")
    departments = serializers.SerializerMethodField()
    item_count = serializers.IntegerField()
    failed_count = serializers.IntegerField()
    result = serializers.SerializerMethodField()

    def get_departments(self, obj) -> list[str]:
        return [d.short_name or d.name for d in obj.departments.all()]

    def get_result(self, obj) -> str:
        return "fail" if obj.failed_count else "pass"


# --- plan rules (bureau staff) ---------------------------------------------------------------------

class ComplyByBandSerializer(serializers.Serializer):
    min_weight = serializers.IntegerField(min_value=0, max_value=100, help_text=_("该分值及以上的条目"))
    days = serializers.IntegerField(min_value=1, max_value=365)
    severity = serializers.CharField(read_only=True, help_text=_("逾期事件的严重程度（由分值决定）"))


class ComplyByItemSerializer(serializers.Serializer):
    item_code = serializers.CharField(max_length=64)
    days = serializers.IntegerField(min_value=1, max_value=365)
    item_text = serializers.CharField(read_only=True)


class PlanRulesSerializer(serializers.Serializer):
    daily_cap = serializers.IntegerField(help_text=_("生效的每人每日检查上限"))
    daily_cap_set = serializers.IntegerField(allow_null=True, help_text=_("局里设置的上限；为空时用系统设置"))
    daily_cap_setting = serializers.IntegerField(help_text=_("系统设置 INSPECTIONS_DAILY_CAP"))
    comply_by_defaults = ComplyByBandSerializer(many=True)
    comply_by_builtin = ComplyByBandSerializer(many=True, help_text=_("未设置时的内置默认值"))
    comply_by_items = ComplyByItemSerializer(many=True)


class PlanRulesInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    daily_cap = serializers.IntegerField(min_value=1, max_value=50, allow_null=True, required=False,
                                         help_text=_("null 恢复为系统设置"))
    comply_by_defaults = ComplyByBandSerializer(many=True, required=False, max_length=20,
                                                help_text=_("整组替换：未列出的行被删除"))
    comply_by_items = ComplyByItemSerializer(many=True, required=False, max_length=500,
                                             help_text=_("整组替换：未列出的行被删除"))
