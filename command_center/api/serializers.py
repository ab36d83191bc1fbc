"""Serializers translate; the rules live in command_center.services and selectors."""
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from command_center.choices import Severity, Source
from command_center.models import Assignment, Deadline, Event, TimelineEntry
from command_center.services import MAX_ID
from core.roles import mask_phone, may_see_phones


# --- input ------------------------------------------------------------------------------------

class EventInputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=Source.choices)
    problem_type = serializers.CharField(max_length=64, help_text=_("问题类型编码（权责清单）"))
    description = serializers.CharField(max_length=5000)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, allow_null=True, allow_blank=True)
    subject = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    reporter_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    reporter_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)


class DispatchInputSerializer(serializers.Serializer):
    officer = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ResolveInputSerializer(serializers.Serializer):
    result = serializers.CharField(max_length=5000)


class CloseInputSerializer(serializers.Serializer):
    satisfaction = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class MergeInputSerializer(serializers.Serializer):
    into = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class TransferInputSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=100, help_text=_("部门编码，或其他平台名称"))
    reason = serializers.CharField(max_length=500)


class SeverityInputSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices)
    reason = serializers.CharField(max_length=500)


class DeliberateInputSerializer(serializers.Serializer):
    topic = serializers.CharField(max_length=500)


# --- output -----------------------------------------------------------------------------------

class DeadlineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Deadline
        fields = ["stage", "met_by", "due_at", "met_at", "breached_at", "fired_at", "cancelled_at", "escalate_to"]


class TimelineSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = TimelineEntry
        fields = ["at", "actor", "action", "from_status", "to_status", "note", "data"]


class AssignmentSerializer(serializers.ModelSerializer):
    officer_name = serializers.CharField(source="officer.name")

    class Meta:
        model = Assignment
        fields = ["officer", "officer_name", "status", "assigned_at", "accepted_at", "ended_at", "reason"]


class EventSerializer(serializers.ModelSerializer):
    problem_type = serializers.CharField(source="problem_type_code")
    grid_code = serializers.CharField(source="grid.code", default=None, allow_null=True)
    street_code = serializers.CharField(source="street.code", default=None, allow_null=True)
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
            "area_code", "grid_code", "street_code", "team", "team_code", "team_name", "department_code",
            "delegated", "routing_reason", "subject", "subject_name", "officer", "officer_name",
            "reporter_name", "reporter_phone", "escalation_level", "merged_into", "possible_duplicate_of",
            "transferred_to", "result", "satisfaction", "version", "created_at", "updated_at",
            "dispatched_at", "accepted_at", "arrived_at", "resolved_at", "closed_at", "deadlines",
        ]
        read_only_fields = fields

    def to_representation(self, obj):
        data = super().to_representation(obj)
        if not self.context.get("may_see_phones", False):
            data["reporter_phone"] = mask_phone(data["reporter_phone"])
        return data


class EventDetailSerializer(EventSerializer):
    timeline = TimelineSerializer(many=True)
    assignments = AssignmentSerializer(many=True)

    class Meta(EventSerializer.Meta):
        fields = EventSerializer.Meta.fields + ["timeline", "assignments"]
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


class CandidatesSerializer(serializers.Serializer):
    event = serializers.IntegerField()
    severity = serializers.CharField()
    min_rank = serializers.IntegerField()
    candidates = CandidateSerializer(many=True)
