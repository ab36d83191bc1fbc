"""Serializers translate; the rules live in command_center.services and selectors."""
import copy

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from command_center.choices import DeliberationOutcome, PhotoKind, Severity, Source
from command_center.models import Assignment, Deadline, Deliberation, DeliberationMeeting, Event, EventPhoto, TimelineEntry
from command_center.services import deliberation
from command_center.services.base import NOTE_MAX_LENGTH
from command_center.services.intake import MAX_LENGTH as INTAKE_MAX_LENGTH
from command_center.services.transitions import RESULT_MAX_LENGTH, TRANSFER_TO_MAX_LENGTH
from command_center import notes
from command_center.selectors import community_of
from core import audit
from core.api.fields import RejectUnknownFieldsMixin, StrictFloatField
from core.ids import MAX_ID
from core.masking import mask_phone
from core.roles import may_see_phones


class FieldsOnce:
    # (Comments, not a docstring: drf-spectacular would publish a docstring as every subclass's schema
    # description.) ModelSerializer maps the model's fields afresh for every serializer it makes (labels
    # translated, kwargs and validators built per field): that was ~80% of the CPU of answering one event.
    # The mapping never changes at run time, so it is built once per class and language, then copied.
    # Only for serializers whose fields do not depend on the context. Plain fields are copied shallowly
    # (binding only sets attributes on the copy; what they share, choices and validators, is read-only);
    # nested serializers deeply, as DRF does, since each holds a bound child of its own; a list field with a
    # copy of its plain child bound to it (a deep copy re-instantiates both: 2% of an intake, py-spy).
    # Input serializers too: DRF deep-copies every declared field per request (3% of an intake's CPU).

    _templates: dict = {}

    def get_fields(self):
        key = (type(self), get_language())
        template = FieldsOnce._templates.get(key)
        if template is None:
            template = FieldsOnce._templates[key] = super().get_fields()
        return {name: _copy(field) for name, field in template.items()}


def _copy(field):
    if isinstance(field, serializers.BaseSerializer) or (
            isinstance(field, (serializers.ListField, serializers.DictField))
            and isinstance(field.child, (serializers.BaseSerializer, serializers.ListField, serializers.DictField))):
        return copy.deepcopy(field)
    field = copy.copy(field)
    if isinstance(field, (serializers.ListField, serializers.DictField)):
        field.child = copy.copy(field.child)
        field.child.parent = field  # the rest of its binding (name "", source) is the template's, the same
    return field


# --- input ------------------------------------------------------------------------------------
# The services clean every field again and own the limits: these read them from there (for the schema,
# and the same 400 either way).

class EventInputSerializer(RejectUnknownFieldsMixin, FieldsOnce, serializers.Serializer):
    source = serializers.ChoiceField(choices=Source.choices)
    problem_type = serializers.CharField(max_length=INTAKE_MAX_LENGTH["problem_type"], help_text=_("问题类型编码（权责清单）"))
    description = serializers.CharField(max_length=INTAKE_MAX_LENGTH["description"])
    lat = StrictFloatField(min_value=-90, max_value=90)
    lng = StrictFloatField(min_value=-180, max_value=180)
    external_id = serializers.CharField(max_length=INTAKE_MAX_LENGTH["external_id"], required=False, allow_blank=True, allow_null=True)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, allow_null=True, allow_blank=True)
    subject = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    reporter_name = serializers.CharField(max_length=INTAKE_MAX_LENGTH["reporter_name"], required=False, allow_blank=True)
    reporter_phone = serializers.CharField(max_length=INTAKE_MAX_LENGTH["reporter_phone"], required=False, allow_blank=True)
    address = serializers.CharField(max_length=INTAKE_MAX_LENGTH["address"], required=False, allow_blank=True)


def _plain_types(field) -> tuple:
    """The JSON value types `field` takes as they come (besides those it converts or refuses)."""
    if isinstance(field, (serializers.CharField, serializers.ChoiceField)):
        kinds = (str,)
    elif isinstance(field, serializers.FloatField):
        kinds = (int, float)
    elif isinstance(field, serializers.IntegerField):
        kinds = (int,)
    else:
        raise TypeError(f"no plain JSON type known for {type(field).__name__}")
    return kinds + ((type(None),) if field.allow_null else ())


_plain_intake_types: dict = {}


def is_plain_intake(data) -> bool:
    """Is `data` a JSON object whose every field EventInputSerializer knows and whose values are of the types
    it takes as they come (text as strings, coordinates as numbers, the subject as an integer, never true/false)?
    Then intake's own cleaning accepts exactly what the serializer would, with the same values: the view
    leaves the serializer out (~5 % of an intake's CPU) and asks it only for a refusal's answer."""
    if not _plain_intake_types:
        _plain_intake_types.update({name: _plain_types(f) for name, f in EventInputSerializer().fields.items()})
    return type(data) is dict and all(type(value) in _plain_intake_types.get(name, ()) for name, value in data.items())


def _photos_field():
    return serializers.ListField(
        child=serializers.FileField(), required=False, allow_empty=True,
        help_text=_("照片（JPEG/PNG/WebP，按内容检查；大小与数量有上限），multipart/form-data 中可重复"),
    )


class EventMultipartInputSerializer(EventInputSerializer):
    """The same fields as multipart/form-data, with report photos."""

    photos = _photos_field()


class PhotoUploadSerializer(serializers.Serializer):
    photos = _photos_field()
    kind = serializers.ChoiceField(
        choices=PhotoKind.choices, required=False,
        help_text=_("report 上报照片 / result 处置照片；缺省时被派遣队员为 result，其他人为 report"),
    )


class DispatchInputSerializer(serializers.Serializer):
    officer = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True)
    reassign = serializers.BooleanField(
        required=False, default=False, help_text=_("改派：事件已有处置人时须为 true，否则返回 409（防止两人同时派遣互相覆盖）"))
    override = serializers.BooleanField(
        required=False, default=False,
        help_text=_("确认派遣推荐候选人以外的本街道在岗队员（定位超时、无定位、不具备资格或职级不足时）：须为 true 且填写 reason，否则返回 409"))


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class PublicNoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class ResolveInputSerializer(serializers.Serializer):
    result = serializers.CharField(max_length=RESULT_MAX_LENGTH)
    photos = _photos_field()


class CloseInputSerializer(serializers.Serializer):
    satisfaction = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True)


class MergeInputSerializer(serializers.Serializer):
    into = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True)


class TransferInputSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=TRANSFER_TO_MAX_LENGTH, help_text=_("部门编码，或其他平台名称"))
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class SeverityInputSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices)
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class PersonSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=deliberation.NAME_MAX_LENGTH)
    role = serializers.CharField(max_length=deliberation.ROLE_MAX_LENGTH, required=False, allow_blank=True,
                                 help_text=_("身份，如 居民代表、商户、社区、市场监管所"))


def _people(help_text):
    return PersonSerializer(many=True, required=False, max_length=deliberation.MAX_PEOPLE, help_text=help_text)


class DeliberateInputSerializer(serializers.Serializer):
    topic = serializers.CharField(max_length=NOTE_MAX_LENGTH)
    participants = _people(_("参与议事的各方（姓名与身份）"))


class MeetingInputSerializer(serializers.Serializer):
    held_at = serializers.DateTimeField(help_text=_("会议时间（不晚于现在）"))
    minutes = serializers.CharField(max_length=deliberation.MINUTES_MAX_LENGTH, help_text=_("会议纪要"))
    place = serializers.CharField(max_length=deliberation.PLACE_MAX_LENGTH, required=False, allow_blank=True)
    attendees = _people(_("参会人（姓名与身份）"))


class ConcludeInputSerializer(serializers.Serializer):
    consensus = serializers.CharField(max_length=deliberation.CONSENSUS_MAX_LENGTH, help_text=_("达成的共识"))
    outcome = serializers.ChoiceField(choices=DeliberationOutcome.choices,
                                      help_text=_("close 办结事件 / reopen 重新处置"))


class ApproveInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True)
    satisfaction = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)


# --- output -----------------------------------------------------------------------------------

class DeadlineSerializer(FieldsOnce, serializers.ModelSerializer):
    class Meta:
        model = Deadline
        fields = ["stage", "met_by", "due_at", "met_at", "breached_at", "fired_at", "cancelled_at", "escalate_to"]


class TimelineSerializer(FieldsOnce, serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", help_text=_("操作人用户名（system 为平台自身）"))
    actor_name = serializers.SerializerMethodField(help_text=_("操作人姓名（平台自身为“系统”）"))
    note = serializers.SerializerMethodField(help_text=_("说明（平台写入的说明按请求的语言显示）"))

    class Meta:
        model = TimelineEntry
        fields = ["at", "actor", "actor_name", "action", "from_status", "to_status", "note", "data"]

    def get_actor_name(self, obj) -> str:
        return audit.person_name(obj.actor, obj.actor_label)

    def get_note(self, obj) -> str:
        return notes.render(obj.note, obj.data)


class AssignmentSerializer(FieldsOnce, serializers.ModelSerializer):
    officer_name = serializers.CharField(source="officer.name")

    class Meta:
        model = Assignment
        fields = ["officer", "officer_name", "status", "assigned_at", "accepted_at", "ended_at", "reason"]


class EventSerializer(FieldsOnce, serializers.ModelSerializer):
    problem_type = serializers.CharField(source="problem_type_code")
    grid_code = serializers.CharField(source="grid.code", default=None, allow_null=True)
    street_code = serializers.CharField(source="street.code", default=None, allow_null=True)
    # Names beside the codes (the codes stay: other platforms read them).
    street_name = serializers.CharField(source="street.name", default=None, allow_null=True)
    grid_name = serializers.CharField(source="grid.name", default=None, allow_null=True)
    community_name = serializers.SerializerMethodField(help_text=_("网格所属村社名称"))
    area_name = serializers.CharField(source="area.name")
    area_code = serializers.CharField(source="area.code")
    team_code = serializers.CharField(source="team.code", default=None, allow_null=True)
    team_name = serializers.CharField(source="team.name", default=None, allow_null=True)
    department_code = serializers.CharField(source="department.code", default=None, allow_null=True)
    subject_name = serializers.CharField(source="subject.name", default=None, allow_null=True)
    officer_name = serializers.CharField(source="officer.name", default=None, allow_null=True)
    status_label = serializers.CharField(source="get_status_display")
    severity_label = serializers.CharField(source="get_severity_display")
    deadlines = DeadlineSerializer(many=True)

    class Meta:
        model = Event
        fields = [
            "id", "source", "external_id", "status", "status_label", "severity", "severity_label",
            "problem_type", "problem_type_name", "matter_code", "description", "lat", "lng", "address",
            "area_code", "area_name", "grid_code", "grid_name", "community_name", "street_code", "street_name",
            "team", "team_code", "team_name", "department_code",
            "delegated", "routing_reason", "subject", "subject_name", "officer", "officer_name",
            "reporter_name", "reporter_phone", "escalation_level", "merged_into", "possible_duplicate_of",
            "transferred_to", "result", "return_reason", "satisfaction", "version", "created_at", "updated_at",
            "dispatched_at", "accepted_at", "arrived_at", "resolved_at", "closed_at", "deadlines",
        ]
        read_only_fields = fields

    def get_community_name(self, obj) -> str | None:
        return community_of(obj.grid)

    def to_representation(self, obj):
        data = super().to_representation(obj)
        if not self.context.get("may_see_phones", False):
            data["reporter_phone"] = mask_phone(data["reporter_phone"])
        return data


class EventPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text=_("照片地址（需登录，按辖区校验）；media_url 类为外部链接"))
    uploaded_by = serializers.CharField(source="uploaded_by_label")
    at = serializers.DateTimeField(source="uploaded_at")

    class Meta:
        model = EventPhoto
        fields = ["id", "kind", "url", "content_type", "size", "width", "height", "uploaded_by", "at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        if obj.kind == PhotoKind.MEDIA_URL:
            return obj.url
        path = reverse("event-photo", kwargs={"pk": obj.event_id, "photo_id": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class EventDetailSerializer(EventSerializer):
    timeline = TimelineSerializer(many=True)
    assignments = AssignmentSerializer(many=True)
    photos = EventPhotoSerializer(many=True)

    class Meta(EventSerializer.Meta):
        fields = EventSerializer.Meta.fields + ["timeline", "assignments", "photos"]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    attendees = PersonSerializer(many=True)

    class Meta:
        model = DeliberationMeeting
        fields = ["id", "held_at", "place", "attendees", "minutes", "recorded_at"]
        read_only_fields = fields


class DeliberationSerializer(serializers.ModelSerializer):
    participants = PersonSerializer(many=True)
    meetings = MeetingSerializer(many=True)
    outcome_label = serializers.CharField(source="get_outcome_display")

    class Meta:
        model = Deliberation
        fields = ["id", "event", "topic", "participants", "from_status", "started_at", "meetings", "consensus",
                  "outcome", "outcome_label", "concluded_at"]
        read_only_fields = fields


def context_for(request) -> dict:
    return {"request": request, "may_see_phones": may_see_phones(request.user)}


class CandidateSerializer(serializers.Serializer):
    place = serializers.IntegerField(allow_null=True, help_text=_("名次（不符合条件者为空）"))
    officer = serializers.IntegerField()
    name = serializers.CharField()
    badge_no = serializers.CharField()
    team_code = serializers.CharField()
    rank = serializers.IntegerField()
    duty_status = serializers.CharField()
    distance_m = serializers.FloatField(allow_null=True)
    load = serializers.IntegerField(help_text=_("在办任务数"))
    eligible = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class ExcludedSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text=_("原因代码：off_duty, no_position, stale_position, not_capable, "
                                               "other_street, rank_too_low, had_event"))
    label = serializers.CharField()
    count = serializers.IntegerField(help_text=_("因此原因不符合条件的人数（一人可计入多项）"))


class ExclusionSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text=_("原因代码：no_position, stale_position, not_capable, rank_too_low"))
    label = serializers.CharField()


class OverridableSerializer(serializers.Serializer):
    officer = serializers.IntegerField()
    name = serializers.CharField()
    badge_no = serializers.CharField()
    team_code = serializers.CharField()
    rank = serializers.IntegerField()
    duty_status = serializers.CharField()
    distance_m = serializers.FloatField(allow_null=True)
    last_position_at = serializers.DateTimeField(allow_null=True)
    eligible = serializers.BooleanField()
    excluded = ExclusionSerializer(many=True, help_text=_("未列入推荐的原因"))


class DispatchModeSerializer(serializers.Serializer):
    configured = serializers.CharField(allow_null=True, help_text=_("派遣规则设定的模式（无规则为空）"))
    effective = serializers.CharField(allow_null=True, help_text=_("当前实际模式（无人在岗时转为自动派遣）"))
    next_on_decline = serializers.BooleanField()
    rule = serializers.IntegerField(allow_null=True)
    fallback = serializers.CharField(allow_null=True)


class CandidatesSerializer(serializers.Serializer):
    event = serializers.IntegerField()
    severity = serializers.CharField()
    min_rank = serializers.IntegerField()
    mode = DispatchModeSerializer()
    pool = serializers.IntegerField(help_text=_("参与排序的队员数"))
    eligible = serializers.IntegerField(help_text=_("符合条件的人数"))
    excluded = ExcludedSerializer(many=True)
    candidates = CandidateSerializer(many=True, help_text=_("前 limit 名（默认 20），附每个名次的理由"))
    overridable = OverridableSerializer(many=True, help_text=_(
        "未列入推荐、但可由值班员指定派遣的本街道在岗队员（派遣时须 override=true 并填写 reason），最近者在前"))
