"""Thin viewsets: scoping comes from grids.selectors, writes go through grids.services."""
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import read_any_write_roles
from core.exceptions import ValidationFailed
from core.roles import BUREAU_STAFF
from grids import geometry, selectors, services
from grids.api import filters
from grids.api.serializers import (
    AreaDetailSerializer, AreaSerializer, CategorySerializer, DepartmentSerializer, LocateResponseSerializer,
    NoticeInputSerializer, NoticeSerializer, OfficerSerializer, PositionInputSerializer, PositionResultSerializer,
    SubjectSerializer, TeamSerializer,
)
from grids.choices import AreaKind
from grids.models import Department, SubjectCategory, Team

# Ids in URLs: digits a bigint holds. Anything else is a 404 (JSON, see core.views.page_not_found)
# before it reaches the database, where 1e30 would overflow.
ID_PATTERN = "[0-9]{1,18}"


class AreaViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_PATTERN
    filterset_class = filters.AreaFilter
    ordering_fields = ["code", "name", "kind"]
    search_fields = ["name", "code"]

    def get_queryset(self):
        qs = selectors.area_list_for(self.request.user)
        if self.action == "list":
            qs = qs.defer("boundary")
        return qs

    def get_serializer_class(self):
        return AreaDetailSerializer if self.action == "retrieve" else AreaSerializer

    @extend_schema(methods=["POST"], request=NoticeInputSerializer, responses={201: NoticeSerializer})
    @extend_schema(methods=["GET"], request=None, responses={200: NoticeSerializer(many=True)})
    @action(detail=True, methods=["post", "get"], url_path="notices")
    def notices(self, request, pk=None):
        """POST: notify every active subject of this area in one click. GET: notices sent to it."""
        area = selectors.get_area_for(request.user, pk)
        if request.method == "GET":
            page = selectors.with_delivery_counts(self.paginate_queryset(selectors.notices_of(area)))
            return self.get_paginated_response(NoticeSerializer(page, many=True).data)
        data = NoticeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notice = services.send_notice(request.user, area, **data.validated_data)
        notice = selectors.with_delivery_counts(selectors.notices_of(area).filter(pk=notice.pk))[0]
        return Response(NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)


class AreaGeoJSONView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, required=True, enum=[k for k in AreaKind.values]),
            OpenApiParameter("bbox", OpenApiTypes.STR, description="min_lng,min_lat,max_lng,max_lat"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """Boundaries of one level as a GeoJSON FeatureCollection, for maps (only the visible box)."""
        kind = request.query_params.get("kind")
        if kind not in AreaKind.values:
            raise ValidationFailed(fields={"kind": [_("必须是 %(choices)s 之一。") % {"choices": ", ".join(AreaKind.values)}]})
        bbox = selectors.parse_bbox(request.query_params.get("bbox"))
        features = [
            {"type": "Feature", "geometry": a["boundary"],
             "properties": {"id": a["id"], "code": a["code"], "name": a["name"], "kind": a["kind"]}}
            for a in selectors.areas_in_bbox(request.user, kind, bbox).values("id", "code", "name", "kind", "boundary")
        ]
        return Response({"type": "FeatureCollection", "features": features})


class SubjectPointsView(APIView):
    MAX_POINTS = 20000

    @extend_schema(
        parameters=[
            OpenApiParameter("bbox", OpenApiTypes.STR, description="min_lng,min_lat,max_lng,max_lat"),
            OpenApiParameter("category", OpenApiTypes.STR, description="major or sub-category code"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """Active subjects in the visible box as compact rows [id, name, lat, lng, category, major category]."""
        bbox = selectors.parse_bbox(request.query_params.get("bbox"))
        rows, truncated = selectors.subject_points(request.user, bbox, limit=self.MAX_POINTS,
                                                   category=request.query_params.get("category"))
        return Response({"columns": ["id", "name", "lat", "lng", "category", "major_category"],
                         "rows": rows, "truncated": truncated})


class LocateView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("lat", OpenApiTypes.DOUBLE, required=True),
            OpenApiParameter("lng", OpenApiTypes.DOUBLE, required=True),
        ],
        responses={200: LocateResponseSerializer},
    )
    def get(self, request):
        """The areas containing a point, smallest first (micro-grid or grid … district)."""
        lat, lng = geometry.parse_lat_lng(request.query_params.get("lat"), request.query_params.get("lng"))
        chain = selectors.locate(lat, lng)
        return Response({"areas": [ref.as_dict() for ref in chain]})


class SubjectViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_PATTERN
    serializer_class = SubjectSerializer
    permission_classes = [read_any_write_roles(BUREAU_STAFF)]
    filterset_class = filters.SubjectFilter
    ordering_fields = ["id", "name", "updated_at"]
    search_fields = ["name", "licence_no", "address"]

    def get_queryset(self):
        return selectors.subjects_for(self.request.user)

    def get_object(self):
        return selectors.get_subject_for(self.request.user, self.kwargs["pk"])

    def perform_create(self, serializer):
        serializer.instance = services.create_subject(self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_subject(self.request.user, serializer.instance, **serializer.validated_data)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_PATTERN
    serializer_class = CategorySerializer
    queryset = SubjectCategory.objects.select_related("parent")
    filterset_fields = ["parent__code"]
    ordering_fields = ["code", "name"]


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_PATTERN
    serializer_class = DepartmentSerializer
    queryset = Department.objects.all()
    filterset_fields = ["code", "kind"]
    ordering_fields = ["code", "name"]
    search_fields = ["name", "code"]


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_PATTERN
    serializer_class = TeamSerializer
    filterset_fields = ["code"]
    ordering_fields = ["code", "name"]

    def get_queryset(self):
        return selectors.scope(Team.objects.select_related("street"), self.request.user, "street__path")


class OfficerViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_PATTERN
    serializer_class = OfficerSerializer
    filterset_class = filters.OfficerFilter
    ordering_fields = ["id", "name", "rank", "last_position_at"]
    search_fields = ["name", "badge_no"]

    def get_queryset(self):
        return selectors.officers_for(self.request.user)

    def get_object(self):
        return selectors.get_officer_for(self.request.user, self.kwargs["pk"])

    @extend_schema(request=PositionInputSerializer, responses={201: PositionResultSerializer, 200: PositionResultSerializer})
    @action(detail=True, methods=["post"], url_path="position")
    def position(self, request, pk=None):
        """A GPS ping from the officer's phone or a body-camera/vehicle platform; kept as a track."""
        officer = self.get_object()
        data = PositionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ping, created, moved = services.record_position(request.user, officer, **data.validated_data)
        body = {"officer": officer.pk, "recorded_at": ping.recorded_at, "created": created, "moved": moved}
        return Response(PositionResultSerializer(body).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
