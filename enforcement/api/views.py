"""Thin viewsets: reads from enforcement.selectors, writes through enforcement.services.

Everyone signed in may read the catalog; writes are for bureau staff bound to the whole district (403 for
everyone else, checked before anything else); the services check the same rule once more.
"""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import ValidationFailed
from enforcement import importers, selectors
from enforcement.services import access as access_services
from enforcement.services import catalog as catalog_services
from enforcement.services import power as power_services
from enforcement.services import scenarios as scenarios_services
from enforcement.api import filters
from enforcement.api.serializers import (
    ApplyTemplateSerializer, CatalogVersionSerializer, ChecklistDetailSerializer, ChecklistSerializer,
    DelegationInputSerializer, DelegationSerializer, MatterInputSerializer, MatterSerializer,
    ProblemTypeInputSerializer, ProblemTypeSerializer, RevokeSerializer, RouteSerializer, ScenarioDetailSerializer,
    ScenarioInputSerializer, ScenarioSerializer, TierTemplateInputSerializer, TierTemplateSerializer,
    VersionNoteSerializer,
)
from enforcement.models import Delegation, Matter
from grids.models import Area, SubjectCategory

class CatalogWrite(BasePermission):
    """Reads for anyone signed in; writes for bureau staff bound to the whole district (the catalog is the
    district's), refused with 403 before any lookup, so the answer never depends on the object."""

    message = gettext_lazy("只有绑定全区的区综合执法局工作人员可以维护事项清单。")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return access_services.may_edit_catalog(user)


class CatalogStaffOnly(CatalogWrite):
    def has_permission(self, request, view):
        return access_services.may_edit_catalog(request.user)

VERSION_PARAM = OpenApiParameter("version", OpenApiTypes.INT, description="catalog version id (default: the published one)")


class CatalogVersionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Catalog versions. POST opens the draft (a copy of the published version), or returns the open one."""

    permission_classes = [CatalogWrite]
    serializer_class = CatalogVersionSerializer
    filterset_fields = ["status"]
    ordering_fields = ["number"]

    def get_queryset(self):
        return selectors.versions()

    def get_object(self):
        return selectors.get_version(self.kwargs["pk"])

    @extend_schema(request=VersionNoteSerializer, responses={201: CatalogVersionSerializer, 200: CatalogVersionSerializer})
    def create(self, request, *args, **kwargs):
        data = VersionNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        existing = selectors.draft_version()
        draft = catalog_services.open_draft(request.user, note=data.validated_data.get("note", ""))
        return Response(CatalogVersionSerializer(draft).data,
                        status=status.HTTP_200_OK if existing else status.HTTP_201_CREATED)

    @extend_schema(request=VersionNoteSerializer, responses={200: CatalogVersionSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish this draft: atomically it becomes the current version and the previous one is archived."""
        version = self.get_object()
        data = VersionNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not version.is_draft:
            from core.exceptions import Conflict

            raise Conflict(_("只有草稿版本可以发布。"))
        published = catalog_services.publish_draft(request.user, note=data.validated_data.get("note"))
        return Response(CatalogVersionSerializer(published).data)

    @extend_schema(
        parameters=[OpenApiParameter("against", OpenApiTypes.INT, description="version id to compare with "
                                     "(default: the version this one was based on)")],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """Matters and delegations added, removed and changed (field: [old, new]) from `against` to this version."""
        version = self.get_object()
        against_id = request.query_params.get("against")
        if against_id not in (None, ""):
            try:
                against = selectors.get_version(against_id)
            except Exception:
                raise ValidationFailed(fields={"against": [_("版本不存在。")]})
        else:
            against = selectors.default_against(version)
            if against is None:
                raise ValidationFailed(fields={"against": [_("该版本没有可比较的前一版本，请指定 against。")]})
        return Response(selectors.diff_versions(against, version))


class MatterViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Matters of the published version (or `?version=<id>`). Writes go to the open draft."""

    permission_classes = [CatalogWrite]
    serializer_class = MatterSerializer
    filterset_class = filters.MatterFilter
    ordering_fields = ["code", "name", "domain"]
    search_fields = ["code", "name", "law"]

    def get_queryset(self):
        if self.action in ("retrieve", "update", "partial_update"):
            return Matter.objects.select_related("department", "version")
        return selectors.matters(selectors.version_or_current(self.request.query_params.get("version")))

    @extend_schema(parameters=[VERSION_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=MatterInputSerializer, responses={201: MatterSerializer})
    def create(self, request, *args, **kwargs):
        data = MatterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        matter = catalog_services.create_matter(request.user, **data.validated_data)
        return Response(MatterSerializer(matter).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MatterInputSerializer, responses={200: MatterSerializer})
    def update(self, request, *args, **kwargs):
        matter = self.get_object()
        data = MatterInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        matter = catalog_services.update_matter(request.user, matter, **data.validated_data)
        return Response(MatterSerializer(matter).data)


class DelegationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Delegations of the published version (or `?version=<id>`); `?on=YYYY-MM-DD` keeps those in force that day.

    `?street=<code>&on=<date>`: the matters the street holds; `?matter=<code>&on=<date>`: the streets holding it."""

    permission_classes = [CatalogWrite]
    serializer_class = DelegationSerializer
    filterset_class = filters.DelegationFilter
    ordering_fields = ["effective_from", "id"]

    def get_queryset(self):
        if self.action != "list":
            return Delegation.objects.select_related("matter", "matter__department", "matter__version", "street",
                                                     "revoked_by")
        qs = selectors.delegations(selectors.version_or_current(self.request.query_params.get("version")))
        on = self.request.query_params.get("on")
        if on:
            qs = selectors.delegations_on(qs, selectors.parse_day(on))
        return qs.order_by("street__code", "matter__code", "effective_from")

    @extend_schema(parameters=[VERSION_PARAM, OpenApiParameter("on", OpenApiTypes.DATE)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=DelegationInputSerializer, responses={201: DelegationSerializer})
    def create(self, request, *args, **kwargs):
        """Delegate a matter to a street in the draft (in force once the draft is published)."""
        data = DelegationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        d = catalog_services.delegate(request.user, matter_code=v["matter_code"], street_code=v["street_code"],
                              effective_from=v["effective_from"], effective_to=v["effective_to"])
        return Response(DelegationSerializer(self.get_queryset().get(pk=d.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RevokeSerializer, responses={200: DelegationSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke at once, with a reason (the row stays, with who, when and why)."""
        delegation = self.get_object()
        data = RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        catalog_services.revoke_delegation(request.user, delegation, reason=data.validated_data["reason"])
        return Response(DelegationSerializer(self.get_queryset().get(pk=delegation.pk)).data)


class TierTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [CatalogWrite]
    serializer_class = TierTemplateSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.tier_templates()

    @extend_schema(request=TierTemplateInputSerializer, responses={200: TierTemplateSerializer})
    def create(self, request, *args, **kwargs):
        """Set the list of matter codes of a tier (creates or replaces)."""
        data = TierTemplateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        template = catalog_services.set_tier_template(request.user, tier=v["tier"], matter_codes=v["matter_codes"],
                                                      name=v.get("name") or None)
        return Response(TierTemplateSerializer(template).data)

    @extend_schema(request=ApplyTemplateSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Delegate the list to every street of the tier, in the draft (idempotent)."""
        template = self.get_object()
        data = ApplyTemplateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = catalog_services.apply_tier_template(request.user, tier=template.tier,
                                                      effective_from=data.validated_data["effective_from"],
                                                      effective_to=data.validated_data["effective_to"])
        return Response(result)


class ProblemTypeViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [CatalogWrite]
    serializer_class = ProblemTypeSerializer
    filterset_class = filters.ProblemTypeFilter
    ordering_fields = ["code", "name"]
    search_fields = ["code", "name"]

    def get_queryset(self):
        return selectors.problem_types()

    @extend_schema(request=ProblemTypeInputSerializer, responses={201: ProblemTypeSerializer, 200: ProblemTypeSerializer})
    def create(self, request, *args, **kwargs):
        """Create or update a problem type by code."""
        data = ProblemTypeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        pt, created = power_services.save_problem_type(request.user, **v)
        return Response(ProblemTypeSerializer(pt).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ChecklistViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [CatalogWrite]
    filterset_class = filters.ChecklistFilter
    ordering_fields = ["code", "name"]
    search_fields = ["code", "name"]

    def get_queryset(self):
        return selectors.checklists()

    def get_object(self):
        return selectors.checklist_detail(self.kwargs["pk"])

    def get_serializer_class(self):
        return ChecklistDetailSerializer if self.action == "retrieve" else ChecklistSerializer


class ScenarioViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [CatalogWrite]
    filterset_class = filters.ScenarioFilter
    ordering_fields = ["code", "name"]
    search_fields = ["code", "name"]

    def get_queryset(self):
        return selectors.scenarios()

    def get_object(self):
        return selectors.scenario_detail(self.kwargs["pk"])

    def get_serializer_class(self):
        return ScenarioDetailSerializer if self.action == "retrieve" else ScenarioSerializer

    @extend_schema(request=ScenarioInputSerializer, responses={201: ScenarioDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Compose a scenario from catalog items (the one-thing supermarket); `publish: true` publishes it at once."""
        data = ScenarioInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        categories = _lookup(SubjectCategory, v["categories"], "categories")
        areas = _lookup(Area, v["areas"], "areas")
        scenario = scenarios_services.create_scenario(
            request.user, code=v.get("code") or None, name=v["name"], description=v["description"],
            categories=categories, areas=areas, items=[dict(i) for i in v["items"]], publish=v["publish"])
        return Response(ScenarioDetailSerializer(selectors.scenario_detail(scenario.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ScenarioDetailSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        scenario = self.get_object()
        scenarios_services.publish_scenario(request.user, scenario)
        return Response(ScenarioDetailSerializer(selectors.scenario_detail(scenario.pk)).data)


def _lookup(model, codes, field):
    found = {o.code: o for o in model.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationFailed(fields={field: [_("未知编码：%(codes)s。") % {"codes": "、".join(missing)}]})
    return [found[c] for c in codes]


class RoutingView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("problem_type", OpenApiTypes.STR, required=True),
            OpenApiParameter("lat", OpenApiTypes.DOUBLE, required=True),
            OpenApiParameter("lng", OpenApiTypes.DOUBLE, required=True),
            OpenApiParameter("on", OpenApiTypes.DATE, description="day of the decision (default today)"),
        ],
        responses={200: RouteSerializer},
    )
    def get(self, request):
        """Who handles a problem of this type at this point: the street team if the street holds the matter, else
        the district department. 400 unknown problem type / bad coordinates, 404 outside the district."""
        p = request.query_params
        decision = selectors.route(p.get("problem_type"), p.get("lat"), p.get("lng"), on=p.get("on"))
        return Response(RouteSerializer(decision.as_dict()).data)


class SubjectChecklistView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        """The merged inspect-once checklist of a subject, grouped by department (404 outside your areas)."""
        return Response(selectors.merged_checklist(request.user, pk))


class CatalogImportView(APIView):
    """Import a CSV/XLSX file (multipart `file`) of matters, delegations, checklists, scenarios or problem types.
    `dry_run=true` checks only. Nothing is written unless every row is valid."""

    permission_classes = [CatalogStaffOnly]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        parameters=[OpenApiParameter("dry_run", OpenApiTypes.BOOL)],
        request={"multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request, kind):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed(fields={"file": [_("请上传文件。")]})
        dry_run = str(request.query_params.get("dry_run", request.data.get("dry_run", ""))).lower() in ("1", "true", "yes", "on")
        report = importers.run_import(request.user, kind, upload.read(), upload.name, dry_run=dry_run)
        return Response(report.as_dict(), status=status.HTTP_200_OK if report.ok else status.HTTP_400_BAD_REQUEST)
