"""Serializers translate; the rules live in grids.services and grids.selectors."""
from django.utils import timezone
from rest_framework import serializers

from core.api import fields as api_fields
from core.api.fields import StrictFloatField
from core.masking import mask_phone
from core.roles import may_see_phones
from grids.models import Area, Department, Notice, Officer, Subject, SubjectCategory, Team


class AreaRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class LocateResponseSerializer(serializers.Serializer):
    areas = AreaRefSerializer(many=True)


class AreaSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", read_only=True, default=None, allow_null=True)
    zone_code = serializers.CharField(source="zone.code", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Area
        fields = ["id", "code", "name", "kind", "parent", "parent_code", "tier", "zone", "zone_code"]


class AreaDetailSerializer(AreaSerializer):
    bbox = serializers.SerializerMethodField()

    class Meta(AreaSerializer.Meta):
        fields = AreaSerializer.Meta.fields + ["boundary", "bbox"]

    def get_bbox(self, obj) -> list[float] | None:
        if obj.min_lat is None:
            return None
        return [obj.min_lng, obj.min_lat, obj.max_lng, obj.max_lat]


class CategorySerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", read_only=True, default=None, allow_null=True)
    parent_name = serializers.CharField(source="parent.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = SubjectCategory
        fields = ["id", "code", "name", "parent_code", "parent_name"]


class TagNamesField(serializers.ListField):
    """Tags in and out as a list of names (the model keeps them as a many-to-many of Tag rows)."""

    child = serializers.CharField(max_length=50)

    def to_representation(self, value):
        if hasattr(value, "all"):  # the related manager; prefetched by grids.selectors.subjects_for
            return [t.name for t in value.all()]
        return super().to_representation(value)


class SubjectSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", queryset=SubjectCategory.objects.filter(parent__isnull=False))
    category_name = serializers.CharField(source="category.name", read_only=True)
    major_category = serializers.CharField(source="category.parent.name", read_only=True, default=None, allow_null=True)
    grid = serializers.SlugRelatedField(slug_field="code", queryset=Area.objects.filter(kind="grid"), required=False)
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    tags = TagNamesField(required=False)
    licence_no = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    lat = StrictFloatField(min_value=-90, max_value=90)
    lng = StrictFloatField(min_value=-180, max_value=180)

    class Meta:
        model = Subject
        fields = [
            "id", "name", "category", "category_name", "major_category", "legal_representative",
            "contact_phone", "licence_no", "shop_sign", "address", "lat", "lng", "grid", "grid_name",
            "status", "tags", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness (licence number) and every other rule live in grids.services, with one message.
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:  # another street's grid code is answered like an unknown one
            from grids import selectors

            fields["grid"].queryset = selectors.scope(fields["grid"].queryset, request.user, "path")
        return fields

    def to_representation(self, obj):
        data = super().to_representation(obj)
        request = self.context.get("request")
        if request is not None and not may_see_phones(request.user):
            data["contact_phone"] = mask_phone(data["contact_phone"])
        return data


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "short_name", "kind"]


class TeamSerializer(serializers.ModelSerializer):
    street_code = serializers.CharField(source="street.code", read_only=True)
    street_name = serializers.CharField(source="street.name", read_only=True)

    class Meta:
        model = Team
        fields = ["id", "code", "name", "street", "street_code", "street_name"]


class OfficerSerializer(serializers.ModelSerializer):
    team_code = serializers.CharField(source="team.code", read_only=True)
    street_code = serializers.CharField(source="team.street.code", read_only=True)
    home_department = serializers.CharField(source="home_department.code", read_only=True)
    skill_departments = serializers.SerializerMethodField()
    position = serializers.SerializerMethodField()

    class Meta:
        model = Officer
        fields = [
            "id", "name", "badge_no", "team", "team_code", "street_code", "home_department", "seconded",
            "rank", "skill_departments", "skill_matter_codes", "phone", "duty_status", "position",
        ]

    def get_skill_departments(self, obj) -> list[str]:
        return [d.code for d in obj.skill_departments.all()]

    def get_position(self, obj) -> dict | None:
        if obj.last_position_at is None:
            return None
        return {
            "lat": obj.last_lat, "lng": obj.last_lng, "accuracy": obj.last_accuracy, "heading": obj.last_heading,
            "recorded_at": timezone.localtime(obj.last_position_at).isoformat(),
        }

    def to_representation(self, obj):
        data = super().to_representation(obj)
        request = self.context.get("request")
        if request is not None and not may_see_phones(request.user):
            data["phone"] = mask_phone(data["phone"])
        return data


class PositionInputSerializer(serializers.Serializer):
    lat = StrictFloatField(min_value=-90, max_value=90)
    lng = StrictFloatField(min_value=-180, max_value=180)
    accuracy = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=100000)
    heading = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=360)
    recorded_at = api_fields.DateTimeField()
    source = serializers.CharField(required=False, allow_blank=True, max_length=32, default="")


class PositionResultSerializer(serializers.Serializer):
    officer = serializers.IntegerField()
    recorded_at = serializers.DateTimeField()
    created = serializers.BooleanField(help_text="false when this ping was already recorded")
    moved = serializers.BooleanField(help_text="true when it became the officer's latest position")


class NoticeInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=5000)


class NoticeSerializer(serializers.ModelSerializer):
    area_code = serializers.CharField(source="area.code", read_only=True)
    sent_by = serializers.CharField(source="sent_by.username", read_only=True)
    delivery_counts = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = ["id", "area", "area_code", "title", "body", "sent_by", "created_at", "recipient_count", "delivery_counts"]

    def get_delivery_counts(self, obj) -> dict[str, int]:
        counts = getattr(obj, "delivery_counts", None)
        if counts is None:  # not batched by grids.selectors.with_delivery_counts: one query for this one
            from django.db.models import Count

            counts = dict(obj.deliveries.values_list("status").annotate(n=Count("id")).values_list("status", "n").order_by())
        return counts
