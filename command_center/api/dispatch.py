"""Dispatch rules (bureau staff) and the dispatchers' sign-on: thin views over command_center.dispatch."""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from command_center import dispatch
from command_center.choices import DispatchMode, Severity
from command_center.models import DispatcherShift, DispatchRule
from core.ids import MAX_ID
from core.api.fields import StrictFloatField
from core.api.permissions import roles_required
from core.exceptions import ValidationFailed
from core.roles import BUREAU_STAFF, DISPATCHER, TEAM_LEADER
from grids.models import Area


class DispatchRuleSerializer(serializers.ModelSerializer):
    street_code = serializers.CharField(source="street.code", allow_null=True, default=None)
    street_name = serializers.CharField(source="street.name", allow_null=True, default=None)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DispatchRule
        fields = ["id", "street", "street_code", "street_name", "severity", "mode", "next_on_decline",
                  "updated_by", "updated_at"]
        read_only_fields = fields


class DispatchRuleInputSerializer(serializers.Serializer):
    street = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True,
                                      help_text=gettext_lazy("镇街ID；留空为全区默认"))
    severity = serializers.ChoiceField(choices=Severity.choices)
    mode = serializers.ChoiceField(choices=DispatchMode.choices)
    next_on_decline = serializers.BooleanField(required=False, default=False)


class DispatchRuleUpdateSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=DispatchMode.choices, required=False)
    next_on_decline = serializers.BooleanField(required=False)


class DispatchRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Dispatch mode per street and severity (street empty: the district default). Reads for the
    command desk and bureau staff of the areas; writes for bureau staff (audited)."""

    serializer_class = DispatchRuleSerializer
    permission_classes = [roles_required(BUREAU_STAFF, DISPATCHER, TEAM_LEADER)]
    lookup_value_regex = r"[0-9]+"
    filterset_fields = ["severity", "mode", "street"]

    def get_queryset(self):
        return dispatch.rules_for(self.request.user).order_by("street_id", "severity", "id")

    @extend_schema(request=DispatchRuleInputSerializer, responses={201: DispatchRuleSerializer})
    def create(self, request):
        data = DispatchRuleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        street_id = values.pop("street", None)
        street = None
        if street_id is not None:
            street = Area.objects.defer("boundary").filter(pk=street_id).first()
            if street is None:
                raise ValidationFailed(fields={"street": [_("镇街不存在或不在您的辖区。")]})
        rule = dispatch.create_rule(request.user, street=street, **values)
        return Response(DispatchRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DispatchRuleUpdateSerializer, responses={200: DispatchRuleSerializer})
    def partial_update(self, request, pk=None):
        rule = self.get_object()  # 404 outside the user's areas
        data = DispatchRuleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = dispatch.update_rule(request.user, rule, **data.validated_data)
        return Response(DispatchRuleSerializer(rule).data)

    @extend_schema(request=DispatchRuleUpdateSerializer, responses={200: DispatchRuleSerializer})
    def update(self, request, pk=None):
        return self.partial_update(request, pk)


class ShiftSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DispatcherShift
        fields = ["id", "user", "started_at", "ends_at", "ended_at"]
        read_only_fields = fields


class SignOnInputSerializer(serializers.Serializer):
    hours = StrictFloatField(required=False, min_value=0.5, max_value=24,
                                   help_text=gettext_lazy("值班时长（小时，默认 12）：到时自动视为签退"))


class DutyView(APIView):
    """Who is signed on at the command desk in the user's areas, and the user's own shift. A street in
    manual mode with nobody of its desk signed on is dispatched automatically."""

    permission_classes = [roles_required(DISPATCHER, TEAM_LEADER)]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        mine = dispatch.current_shift(request.user)
        return Response({"me": ShiftSerializer(mine).data if mine else None,
                         "on_duty": ShiftSerializer(dispatch.shifts_for(request.user), many=True).data})


class SignOnView(APIView):
    permission_classes = [roles_required(DISPATCHER, TEAM_LEADER)]

    @extend_schema(request=SignOnInputSerializer, responses={201: ShiftSerializer})
    def post(self, request):
        data = SignOnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shift = dispatch.sign_on(request.user, hours=data.validated_data.get("hours"))
        return Response(ShiftSerializer(shift).data, status=status.HTTP_201_CREATED)


class SignOffView(APIView):
    permission_classes = [roles_required(DISPATCHER, TEAM_LEADER)]

    @extend_schema(request=None, responses={200: ShiftSerializer})
    def post(self, request):
        return Response(ShiftSerializer(dispatch.sign_off(request.user)).data)
