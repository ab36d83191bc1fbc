"""Serializers only translate: checks of meaning live in credit.services (one module per concept)."""
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api import fields as api_fields
from core.api.fields import StrictFloatField, StrictNumbersMixin
from core.ids import MAX_ID
from credit.choices import Color
from credit.models import CreditHistory, CreditOverride, CreditPolicy, SensorReading
from grids.models import SubjectCategory



class OverrideSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = CreditOverride
        fields = ["id", "color", "reason", "expires_at", "created_by", "created_at"]


class HistorySerializer(serializers.ModelSerializer):
    from_ = serializers.CharField(source="from_color")
    to = serializers.CharField(source="to_color")
    cause_label = serializers.CharField(source="get_cause_display")
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)

    class Meta:
        model = CreditHistory
        fields = ["from_", "to", "score", "changed_at", "cause", "cause_label", "detail", "fact", "actor"]

    def get_fields(self):
        # "from" is a Python keyword: declared as from_, published (and documented) as "from".
        fields = super().get_fields()
        return {("from" if k == "from_" else k): v for k, v in fields.items()}


class CreditSerializer(serializers.Serializer):
    """GET /subjects/{id}/credit/: built from credit.selectors.credit_for()."""

    subject = serializers.IntegerField(source="subject.pk")
    subject_name = serializers.CharField(source="subject.name")
    score = serializers.FloatField(source="score.score")
    color = serializers.ChoiceField(choices=Color.choices, source="score.color")
    computed_color = serializers.ChoiceField(choices=Color.choices, source="score.computed_color")
    reasons = serializers.JSONField(source="score.reasons")
    policy = serializers.SerializerMethodField()
    computed_at = serializers.DateTimeField(source="score.computed_at")
    override = OverrideSerializer(allow_null=True)
    history = HistorySerializer(many=True)
    under_review = serializers.BooleanField(help_text=_("有未决的复议/申诉（结果待定）"))

    def get_policy(self, obj) -> dict | None:
        p = obj["score"].policy
        return {"id": p.pk, "version": p.version, "category": p.category_id, "name": p.name} if p else None


class OverrideInputSerializer(serializers.Serializer):
    color = serializers.ChoiceField(choices=Color.choices)
    reason = serializers.CharField(max_length=255)
    expires_at = api_fields.DateTimeField()


class OverrideEndSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class PolicySerializer(StrictNumbersMixin, serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(queryset=SubjectCategory.objects.all(), allow_null=True,
                                                  required=False)
    category_name = serializers.CharField(source="category.name", default=None, read_only=True, allow_null=True)
    created_by = serializers.CharField(source="created_by.username", default=None, read_only=True, allow_null=True)
    half_life_days = StrictFloatField(allow_null=True, required=False)
    base_points = serializers.JSONField(required=False)
    weights = serializers.JSONField(required=False)
    sensor_rules = serializers.JSONField(required=False)

    class Meta:
        model = CreditPolicy
        fields = ["id", "category", "category_name", "version", "is_current", "name", "window_days", "half_life_days",
                  "yellow_from", "red_from", "base_points", "weights", "lenient_multiplier",
                  "complaint_confirmed_weight", "complaint_unconfirmed_weight", "sensor_rules", "note",
                  "created_by", "created_at", "retired_at"]
        read_only_fields = ["version", "is_current", "created_at", "retired_at"]
        # Uniqueness and the threshold order are checked by the service (a new version, not this row).
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        for name in ("window_days", "yellow_from", "red_from", "lenient_multiplier", "complaint_confirmed_weight",
                     "complaint_unconfirmed_weight", "name", "note"):
            fields[name].required = False
        return fields


class SensorReadingInputSerializer(serializers.Serializer):
    device_id = serializers.CharField(max_length=64)
    subject = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    metric = serializers.CharField(max_length=32)
    value = StrictFloatField()
    measured_at = api_fields.DateTimeField(help_text=_("监测时间（ISO 8601）；也可用 time"))


class SensorReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = SensorReading
        fields = ["id", "device_id", "subject", "metric", "value", "measured_at", "received_at"]


