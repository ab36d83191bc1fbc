"""Thin viewsets: scoping in inspections.selectors, writes in inspections.services."""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from inspections import selectors, services
from inspections.api import filters
from inspections.models import InspectionPlan, Visit
from inspections.api.serializers import (
    VisitChecklistItemSerializer, CompleteInputSerializer, FindingInputSerializer, FindingSerializer, PhotoInputSerializer,
    PhotoRefSerializer, PlanDetailSerializer, PlanInputSerializer, PlanRulesInputSerializer, PlanRulesSerializer,
    PlanSerializer, PublicResultSerializer,
    ReferralInputSerializer, ReferralSerializer, ReinspectInputSerializer, ReinspectionSerializer,
    StandaloneVisitInputSerializer, VisitDetailSerializer, VisitInputSerializer, VisitListSerializer,
    VisitMoveSerializer, VisitRowSerializer,
)

ID_PATTERN = "[0-9]{1,18}"


def _valid(serializer_class, request, partial=False):
    s = serializer_class(data=request.data, partial=partial)
    s.is_valid(raise_exception=True)
    return s.validated_data


def _created(created: bool):
    return status.HTTP_201_CREATED if created else status.HTTP_200_OK


class InspectionPlanViewSet(viewsets.GenericViewSet):
    lookup_value_regex = ID_PATTERN
    filterset_class = filters.PlanFilter
    serializer_class = PlanSerializer
    queryset = InspectionPlan.objects.none()  # for the schema; get_queryset scopes
    ordering_fields = ["month", "created_at"]
    search_fields = None

    def get_queryset(self):
        return selectors.plans_for(self.request.user).order_by("-month", "street__code")

    @extend_schema(responses={200: PlanSerializer(many=True)})
    def list(self, request):
        """The plans of the user's streets with their figures (district-wide for bureau staff)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        figures = selectors.figures_for(p.pk for p in page)
        for p in page:
            p.figures = figures[p.pk]
        return self.get_paginated_response(PlanSerializer(page, many=True).data)

    def _detail(self, plan):
        plan.visit_rows = list(selectors.plan_visits(plan).select_related("street").defer("street__boundary"))
        plan.figures = selectors.plan_figures(plan)
        plan.unscheduled_rows = selectors.unscheduled_rows(plan)
        return PlanDetailSerializer(plan).data

    @extend_schema(request=PlanInputSerializer, responses={201: PlanDetailSerializer})
    def create(self, request):
        """Draft the street's monthly plan (月度综合查一次计划)."""
        data = _valid(PlanInputSerializer, request)
        plan = services.draft_plan(request.user, street=data["street"], month=data["month"],
                                   subjects=data.get("subjects", []))
        return Response(self._detail(selectors.get_plan_for(request.user, plan.pk)), status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: PlanDetailSerializer})
    def retrieve(self, request, pk=None):
        return Response(self._detail(selectors.get_plan_for(request.user, pk)))

    @extend_schema(request=VisitInputSerializer, responses={201: VisitRowSerializer})
    @action(detail=True, methods=["post"], url_path="visits")
    def visits(self, request, pk=None):
        """Add a visit (409 when the subject already has its concentrated inspection this month)."""
        selectors.get_plan_for(request.user, pk)
        data = _valid(VisitInputSerializer, request)
        visit = services.add_visit(request.user, pk, subject=data["subject"], date=data["date"],
                                   officers=data["officers"], kind=data["kind"],
                                   one_off_reason=data["one_off_reason"], reason_text=data["reason_text"])
        return Response(VisitRowSerializer(selectors.visit_list(request.user).get(pk=visit.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["PATCH"], request=VisitMoveSerializer, responses={200: VisitRowSerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=rf"visits/(?P<visit_id>{ID_PATTERN})")
    def visit(self, request, pk=None, visit_id=None):
        """Move a planned visit to another day or other officers (PATCH), or remove it (DELETE)."""
        selectors.get_plan_for(request.user, pk)
        if request.method == "DELETE":
            services.remove_visit(request.user, pk, visit_id)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = _valid(VisitMoveSerializer, request)
        visit = services.move_visit(request.user, pk, visit_id, date=data.get("date"), officers=data.get("officers"))
        return Response(VisitRowSerializer(selectors.visit_list(request.user).get(pk=visit.pk)).data)

    @extend_schema(request=None, responses={200: PlanDetailSerializer})
    @action(detail=True, methods=["post"], url_path="approve")
    def approve(self, request, pk=None):
        """Approve the plan: only the street's team leader (403 for anyone else)."""
        plan = services.approve_plan(request.user, pk)
        return Response(self._detail(selectors.get_plan_for(request.user, plan.pk)))


class InspectionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID_PATTERN
    filterset_class = filters.VisitFilter
    serializer_class = VisitListSerializer
    queryset = Visit.objects.none()  # for the schema; get_queryset scopes
    ordering_fields = ["date", "route_order"]
    search_fields = ["subject__name"]

    def get_queryset(self):
        return selectors.visit_list(self.request.user).order_by("-date", "route_order", "id")

    @extend_schema(request=StandaloneVisitInputSerializer, responses={201: VisitListSerializer})
    def create(self, request):
        """A visit outside the monthly plan: one-off (complaint / event / emergency) or concentrated."""
        data = _valid(StandaloneVisitInputSerializer, request)
        visit = services.create_visit(request.user, street=data["street"], subject=data["subject"],
                                      date=data["date"], officers=data["officers"], kind=data["kind"],
                                      one_off_reason=data["one_off_reason"], reason_text=data["reason_text"])
        return Response(VisitListSerializer(selectors.visit_list(request.user).get(pk=visit.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: VisitDetailSerializer})
    def retrieve(self, request, pk=None):
        return Response(VisitDetailSerializer(selectors.visit_detail(request.user, pk)).data)

    @extend_schema(responses={200: VisitChecklistItemSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="items", pagination_class=None, filterset_class=None)
    def items(self, request, pk=None):
        """The visit's merged checklist (every department's items), as the phone records them."""
        visit = selectors.get_visit_for(request.user, pk)
        return Response(VisitChecklistItemSerializer(selectors.visit_items(request.user, visit), many=True).data)

    @extend_schema(request=FindingInputSerializer, responses={201: FindingSerializer, 200: FindingSerializer})
    @action(detail=True, methods=["post"], url_path="findings")
    def findings(self, request, pk=None):
        """Record one item (idempotent by client_id: a resend answers 200 with the first record)."""
        data = _valid(FindingInputSerializer, request)
        finding, created = services.record_finding(
            request.user, pk, client_id=data["client_id"], item=data["item"], result=data["result"],
            note=data["note"], rectification=data["rectification"], comply_by=data["comply_by"],
            correction_reason=data["correction_reason"])
        return Response(FindingSerializer(finding).data, status=_created(created))

    @extend_schema(request=PhotoInputSerializer, responses={201: PhotoRefSerializer, 200: PhotoRefSerializer})
    @action(detail=True, methods=["post"], url_path="photos")
    def photos(self, request, pk=None):
        data = _valid(PhotoInputSerializer, request)
        photo, created = services.add_photo(request.user, pk, client_id=data["client_id"], finding=data["finding"],
                                            image=data["image"])
        return Response(PhotoRefSerializer(photo).data, status=_created(created))

    @extend_schema(request=CompleteInputSerializer, responses={201: VisitDetailSerializer, 200: VisitDetailSerializer})
    @action(detail=True, methods=["post"], url_path="complete")
    def complete(self, request, pk=None):
        """Close the visit with the representative's signature (PNG) or their refusal."""
        data = _valid(CompleteInputSerializer, request)
        visit, created = services.complete_visit(request.user, pk, client_id=data["client_id"],
                                                 representative_name=data["representative_name"],
                                                 signature=data["signature"] or None, refused=data["refused"])
        return Response(VisitDetailSerializer(selectors.visit_detail(request.user, visit.pk)).data,
                        status=_created(created))

    @extend_schema(request=ReinspectInputSerializer, responses={201: ReinspectionSerializer})
    @action(detail=True, methods=["post"], url_path="reinspections")
    def reinspections(self, request, pk=None):
        data = _valid(ReinspectInputSerializer, request)
        rec = services.reinspect(request.user, pk, finding=data["finding"], rectified=data["rectified"],
                                 note=data["note"])
        return Response(ReinspectionSerializer(rec).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReferralInputSerializer, responses={201: ReferralSerializer})
    @action(detail=True, methods=["post"], url_path="referrals")
    def referrals(self, request, pk=None):
        """Refer a failed finding to casework (移送立案): recorded here, the case is opened there."""
        data = _valid(ReferralInputSerializer, request)
        referral = services.refer_to_case(request.user, pk, finding=data["finding"], note=data["note"])
        return Response(ReferralSerializer(referral).data, status=status.HTTP_201_CREATED)


class PublicResultViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Completed random spot checks (双随机、一公开): public, no login, no personal data."""

    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = PublicResultSerializer
    filterset_class = None
    ordering_fields = ["date"]
    search_fields = ["subject__name"]

    def get_queryset(self):
        return selectors.public_results()


class PlanRulesView(APIView):
    """The plan rules (daily cap, comply-by days by weight band and by item): district-wide bureau staff."""

    @extend_schema(responses={200: PlanRulesSerializer})
    def get(self, request):
        return Response(PlanRulesSerializer(services.rules_for(request.user)).data)

    @extend_schema(request=PlanRulesInputSerializer, responses={200: PlanRulesSerializer})
    def patch(self, request):
        """Change the given rules; each list replaces the whole set. Audited with from→to."""
        services.require_rules_editor(request.user)
        data = _valid(PlanRulesInputSerializer, request)
        services.save_rules(request.user, **data)
        return Response(PlanRulesSerializer(services.rules_for(request.user)).data)
