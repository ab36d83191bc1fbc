"""Thin views: reads through credit.selectors (scoped by area), writes through credit.services."""
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import read_any_write_roles, roles_required
from core.exceptions import NotFound, ValidationFailed
from core.roles import BUREAU_STAFF
from credit import selectors
from credit.api.serializers import (
    CreditSerializer, OverrideEndSerializer, OverrideInputSerializer, OverrideSerializer, PolicySerializer,
    SensorReadingInputSerializer, SensorReadingSerializer,
)
from credit.services import overrides, policies, sensors
from grids import selectors as grid_selectors


def _credit_payload(request, subject_id):
    return CreditSerializer(selectors.credit_for(request.user, subject_id)).data


class SubjectCreditView(APIView):
    @extend_schema(responses={200: CreditSerializer})
    def get(self, request, pk):
        """A subject's credit: score, colour (green/yellow/red), the reasons (each factor's contribution and
        the facts behind it), a live override beside the computed colour, and the history of colour changes."""
        return Response(_credit_payload(request, pk))


class SubjectCreditOverrideView(APIView):
    permission_classes = [roles_required(BUREAU_STAFF)]

    @extend_schema(request=OverrideInputSerializer, responses={201: CreditSerializer})
    def post(self, request, pk):
        """Bureau staff set the colour by hand, with a reason and an expiry."""
        subject = grid_selectors.get_subject_for(request.user, pk)
        data = OverrideInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        overrides.set_override(request.user, subject, **data.validated_data)
        return Response(_credit_payload(request, pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=OverrideEndSerializer, responses={200: OverrideSerializer})
    def delete(self, request, pk):
        """End the live override before its expiry."""
        subject = grid_selectors.get_subject_for(request.user, pk)
        data = OverrideEndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        override = overrides.end_override(request.user, subject, reason=data.validated_data.get("reason", ""))
        return Response(OverrideSerializer(override).data)


class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Credit policies. Everyone reads; bureau staff of the whole district write. An edit (PUT/PATCH)
    answers the NEW version (a new id): old versions are kept and readable with `?all=1`. DELETE retires a
    category's policy (its subjects fall back to the major category's or the district default)."""

    serializer_class = PolicySerializer
    permission_classes = [read_any_write_roles(BUREAU_STAFF)]
    lookup_value_regex = "[0-9]{1,18}"
    filter_backends = []

    def get_queryset(self):
        params = self.request.query_params
        category = params.get("category")
        if category not in (None, "", "default") and not category.isdigit():
            raise ValidationFailed(fields={"category": [_("必须是类别ID或 default。")]})
        include_retired = self.action != "list" or params.get("all") in ("1", "true")
        return selectors.policies(include_retired=include_retired, category=category or None)

    @extend_schema(parameters=[
        OpenApiParameter("all", OpenApiTypes.BOOL, description="include retired versions"),
        OpenApiParameter("category", OpenApiTypes.STR, description="category id, or `default`"),
    ])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_object(self):
        return selectors.get_policy(self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = policies.create_policy(request.user, **serializer.validated_data)
        return Response(self.get_serializer(policy).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        policy = self.get_object()
        serializer = self.get_serializer(policy, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        new = policies.update_policy(request.user, policy, **serializer.validated_data)
        return Response(self.get_serializer(new).data)

    def destroy(self, request, *args, **kwargs):
        policies.retire_policy(request.user, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SensorReadingView(ListAPIView):
    """POST: a monitor's reading (device_id, subject, metric, value, measured_at — `time` is accepted too).
    201 the first time; the same device and time again answers 200 with the first reading (409 if the
    values differ). GET: readings of subjects in your areas."""

    serializer_class = SensorReadingSerializer

    def get_queryset(self):
        qs = selectors.sensor_readings_for(self.request.user)
        subject = self.request.query_params.get("subject")
        if subject:
            if not subject.isdigit():
                raise ValidationFailed(fields={"subject": [_("必须是管理对象ID（整数）。")]})
            qs = qs.filter(subject_id=int(subject))
        return qs

    @extend_schema(request=SensorReadingInputSerializer, responses={201: SensorReadingSerializer,
                                                                     200: SensorReadingSerializer})
    def post(self, request):
        body = request.data  # not a JSON object: the serializer says so
        if isinstance(body, dict) and "measured_at" not in body and "time" in body:
            body = {**body.dict(), "measured_at": body["time"]} if hasattr(body, "dict") else {**body, "measured_at": body["time"]}
        data = SensorReadingInputSerializer(data=body)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        try:
            subject = grid_selectors.get_subject_for(request.user, values.pop("subject"))
        except NotFound:
            raise ValidationFailed(fields={"subject": [_("管理对象不存在。")]})
        reading, created = sensors.record_sensor_reading(request.user, subject=subject, **values)
        return Response(SensorReadingSerializer(reading).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


