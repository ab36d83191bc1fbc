"""API of the effort rules and the monthly due list (thin: the rules live in credit.effort)."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import StrictFloatField
from core.api.pagination import StandardPagination
from credit import effort
from credit.models import EffortRule


class EffortRuleSerializer(serializers.ModelSerializer):
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = EffortRule
        fields = ("color", "reinspect_every_days", "neighbour_radius_m", "neighbour_same_grid", "patrols_per_month",
                  "lookback_days", "spot_check_percent", "note", "updated_by", "updated_at")
        read_only_fields = fields


class EffortRuleInputSerializer(serializers.Serializer):
    """Only the fields the colour's rule uses; credit.effort.clean_rule checks them."""

    reinspect_every_days = serializers.IntegerField(required=False, allow_null=True)
    neighbour_radius_m = serializers.IntegerField(required=False, allow_null=True)
    neighbour_same_grid = serializers.BooleanField(required=False)
    patrols_per_month = serializers.IntegerField(required=False, allow_null=True)
    lookback_days = serializers.IntegerField(required=False, allow_null=True)
    spot_check_percent = StrictFloatField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=255)


class DueItemSerializer(serializers.Serializer):
    subject = serializers.IntegerField()
    subject_name = serializers.CharField()
    grid = serializers.CharField()
    color = serializers.CharField()
    rule = serializers.ChoiceField(choices=effort.Due.choices)
    rule_label = serializers.CharField()
    reason = serializers.CharField()
    due_date = serializers.DateField()
    related_subject = serializers.IntegerField(allow_null=True)


class DueAreaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class DueListSerializer(serializers.Serializer):
    """The page of due items, with the month, the area and the summary of the whole month."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DueItemSerializer(many=True)
    month = serializers.CharField()
    area = DueAreaSerializer()
    summary = serializers.DictField()


class EffortRuleListView(APIView):
    @extend_schema(responses={200: EffortRuleSerializer(many=True)})
    def get(self, request):
        """The three effort rules (red, yellow, green)."""
        effort.require_reader(request.user)
        rules = effort.rules()
        return Response([EffortRuleSerializer(rules[c]).data for c in ("red", "yellow", "green")])


class EffortRuleDetailView(APIView):
    @extend_schema(responses={200: EffortRuleSerializer})
    def get(self, request, color):
        effort.require_reader(request.user)
        rule = effort.rules().get(color)
        if rule is None:
            effort.clean_rule(color, {})  # raises NotFound for an unknown colour
        return Response(EffortRuleSerializer(rule).data)

    @extend_schema(request=EffortRuleInputSerializer, responses={200: EffortRuleSerializer})
    def patch(self, request, color):
        """Change one colour's rule: bureau staff bound to the whole district; audited."""
        effort.require_rule_staff(request.user)
        data = EffortRuleInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        # The raw values for the fields given: a field this colour doesn't use must be refused, not dropped.
        given = {k: data.validated_data[k] for k in data.validated_data}
        return Response(EffortRuleSerializer(effort.update_rule(request.user, color, **given)).data)

    put = patch


class EffortDueView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("area", OpenApiTypes.STR, required=True, description="area code (street, community, grid, zone…)"),
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM; this month when absent"),
            OpenApiParameter("page", OpenApiTypes.INT), OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={200: DueListSerializer},
    )
    def get(self, request):
        """Who in the area is due for an inspection in the month, and why (rule, reason, due date)."""
        effort.require_reader(request.user)
        area = effort.area_for(request.user, request.query_params.get("area"))
        first, last = effort.parse_month(request.query_params.get("month"))
        items, summary = effort.due_in(request.user, area, first, last)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(items, request, view=self)
        response = paginator.get_paginated_response(DueItemSerializer([i.as_dict() for i in page], many=True).data)
        response.data["month"] = f"{first:%Y-%m}"
        response.data["area"] = {"id": area.pk, "code": area.code, "name": area.name, "kind": area.kind}
        response.data["summary"] = summary
        return response
