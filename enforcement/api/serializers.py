"""Serializers translate; the rules live in enforcement.services and enforcement.selectors."""
from rest_framework import serializers

from enforcement.choices import MatterKind, MatterStatus, ScenarioItemKind, Severity
from enforcement.models import (
    CatalogVersion, Checklist, ChecklistItem, Delegation, Matter, ProblemType, Scenario, ScenarioItem, TierTemplate,
)
from grids.choices import StreetTier


class CatalogVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None, allow_null=True)
    published_by = serializers.CharField(source="published_by.username", read_only=True, default=None, allow_null=True)
    based_on = serializers.IntegerField(source="based_on.number", read_only=True, default=None, allow_null=True)
    matter_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)

    class Meta:
        model = CatalogVersion
        fields = ["id", "number", "status", "note", "based_on", "revision", "matter_count", "created_by", "created_at",
                  "published_by", "published_at", "archived_at"]


class VersionNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class MatterSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    legal_basis = serializers.CharField(read_only=True)

    class Meta:
        model = Matter
        fields = ["id", "code", "name", "law", "article", "legal_basis", "department", "department_name", "kind",
                  "domain", "non_site", "major_decision", "status", "version"]


class MatterInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=255)
    law = serializers.CharField(max_length=255)
    article = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    department = serializers.CharField(max_length=32, help_text="department code")
    kind = serializers.ChoiceField(choices=MatterKind.choices)
    domain = serializers.CharField(max_length=32)
    non_site = serializers.BooleanField(required=False, default=False)
    major_decision = serializers.BooleanField(required=False, default=False)
    status = serializers.ChoiceField(choices=MatterStatus.choices, required=False, default=MatterStatus.ACTIVE)


class DelegationSerializer(serializers.ModelSerializer):
    matter_code = serializers.CharField(source="matter.code", read_only=True)
    matter_name = serializers.CharField(source="matter.name", read_only=True)
    department = serializers.CharField(source="matter.department.code", read_only=True)
    domain = serializers.CharField(source="matter.domain", read_only=True)
    street_code = serializers.CharField(source="street.code", read_only=True)
    street_name = serializers.CharField(source="street.name", read_only=True)
    version = serializers.IntegerField(source="matter.version.number", read_only=True)
    revoked_by = serializers.CharField(source="revoked_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Delegation
        fields = ["id", "matter_code", "matter_name", "department", "domain", "street_code", "street_name", "tier",
                  "effective_from", "effective_to", "source", "revoked_at", "revoked_by", "revoke_reason", "version"]


class DelegationInputSerializer(serializers.Serializer):
    matter_code = serializers.CharField(max_length=64)
    street_code = serializers.CharField(max_length=32)
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(required=False, allow_null=True, default=None)


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class TierTemplateSerializer(serializers.ModelSerializer):
    size = serializers.IntegerField(read_only=True)

    class Meta:
        model = TierTemplate
        fields = ["id", "tier", "name", "size", "matter_codes", "updated_at"]


class TierTemplateInputSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=StreetTier.choices)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    matter_codes = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=True)


class ApplyTemplateSerializer(serializers.Serializer):
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(required=False, allow_null=True, default=None)


class ProblemTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProblemType
        fields = ["id", "code", "name", "matter_code", "default_severity", "group", "about_subject", "description",
                  "active"]


class ProblemTypeInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=100)
    matter_code = serializers.CharField(max_length=64)
    default_severity = serializers.ChoiceField(choices=Severity.choices, required=False, default=Severity.BLUE)
    group = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    about_subject = serializers.BooleanField(required=False, default=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    active = serializers.BooleanField(required=False, default=True)


class ChecklistItemSerializer(serializers.ModelSerializer):
    area = serializers.CharField(source="area.name", read_only=True, default="")
    department = serializers.CharField(source="department.code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = ChecklistItem
        fields = ["id", "code", "area", "matter_code", "department", "department_name", "text", "weight", "order"]


class ChecklistSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    item_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)

    class Meta:
        model = Checklist
        fields = ["id", "code", "name", "category", "category_name", "description", "active", "item_count"]


class ChecklistDetailSerializer(ChecklistSerializer):
    areas = serializers.SerializerMethodField()
    items = ChecklistItemSerializer(many=True, read_only=True)

    class Meta(ChecklistSerializer.Meta):
        fields = ChecklistSerializer.Meta.fields + ["areas", "items"]

    def get_areas(self, obj) -> list[str]:
        return [a.name for a in obj.areas.all()]


class ScenarioItemSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = ScenarioItem
        fields = ["id", "kind", "department", "department_name", "matter_code", "checklist_item", "text", "order"]


class ScenarioSerializer(serializers.ModelSerializer):
    categories = serializers.SerializerMethodField()
    areas = serializers.SerializerMethodField()
    item_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)
    supervision_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)
    enforcement_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)
    department_count = serializers.IntegerField(read_only=True, default=None, allow_null=True)

    class Meta:
        model = Scenario
        fields = ["id", "code", "name", "description", "status", "categories", "areas", "item_count",
                  "supervision_count", "enforcement_count", "department_count", "published_at"]

    def get_categories(self, obj) -> list[str]:
        return [c.code for c in obj.categories.all()]

    def get_areas(self, obj) -> list[str]:
        return [a.code for a in obj.areas.all()]


class ScenarioDetailSerializer(ScenarioSerializer):
    items = ScenarioItemSerializer(many=True, read_only=True)
    summary = serializers.SerializerMethodField()

    class Meta(ScenarioSerializer.Meta):
        fields = ScenarioSerializer.Meta.fields + ["summary", "items"]

    def get_summary(self, obj) -> dict:
        from enforcement.selectors import scenario_summary

        return scenario_summary(obj)


class ScenarioItemInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ScenarioItemKind.choices)
    department = serializers.CharField(max_length=32, required=False, allow_blank=True)
    matter_code = serializers.CharField(max_length=64, required=False, allow_blank=True)
    checklist_item = serializers.IntegerField(required=False, allow_null=True)
    text = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ScenarioInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    categories = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list,
                                       help_text="subject category codes")
    areas = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list,
                                  help_text="area codes")
    items = ScenarioItemInputSerializer(many=True, allow_empty=False)
    publish = serializers.BooleanField(required=False, default=False)


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class RouteSerializer(serializers.Serializer):
    problem_type = serializers.CharField()
    problem_type_name = serializers.CharField()
    matter_code = serializers.CharField()
    matter_name = serializers.CharField()
    street_code = serializers.CharField(allow_null=True)
    street_name = serializers.CharField(allow_null=True)
    grid_code = serializers.CharField(allow_null=True)
    team = TeamRefSerializer(allow_null=True)
    department = TeamRefSerializer(allow_null=True)
    owner_department = TeamRefSerializer()
    delegated = serializers.BooleanField()
    severity = serializers.CharField()
    reason = serializers.CharField()
    catalog_version = serializers.IntegerField()
    on = serializers.DateField()
