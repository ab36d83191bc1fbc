"""Thin views over analytics.selectors (figures, scoped by the asker's areas) and services (warnings)."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import params, services
from analytics.api.serializers import (
    AcknowledgeSerializer, CaseFiguresSerializer, CreditFiguresSerializer, EventFiguresSerializer,
    InspectionFiguresSerializer, ScorecardSerializer, ScreenFiguresSerializer, TrendsSerializer,
    MapWarningSerializer, WarningSerializer, WeightsSerializer,
)
from analytics.choices import TIME_GROUPS, GroupBy
from analytics.selectors import assessment
from analytics.selectors import cases as case_figures
from analytics.selectors import credit as credit_figures
from analytics.selectors import events as event_figures
from analytics.selectors import inspections as inspection_figures
from analytics.selectors import screen as screen_figures
from analytics.selectors import trends as trend_figures
from analytics.selectors import warnings as warning_selectors
from core.api.permissions import roles_required
from core.roles import API_CLIENT, BUREAU_STAFF, DISPATCHER, TEAM_LEADER

# Who reads the figures: the center's staff and other platforms; an officer's phone has no use for them.
FIGURE_READERS = roles_required(DISPATCHER, TEAM_LEADER, BUREAU_STAFF, API_CLIENT)

PERIOD_PARAMETERS = [
    OpenApiParameter("area", OpenApiTypes.STR, description="区域编码（镇街、社区、网格）；默认本人全部辖区；他人辖区 404"),
    OpenApiParameter("from", OpenApiTypes.DATE, description="开始日期（含，Asia/Shanghai），默认30天前"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="结束日期（含），默认今天"),
]


def _envelope(period: params.Period, definitions) -> dict:
    return {"area": period.area.code if period.area else None, "date_from": period.date_from,
            "date_to": period.date_to, "group_by": period.group_by,
            "definitions": {k: str(v) for k, v in definitions.items()}}


class EventStatsView(APIView):
    permission_classes = [FIGURE_READERS]

    @extend_schema(parameters=[*PERIOD_PARAMETERS, OpenApiParameter(
        "group_by", OpenApiTypes.STR, enum=GroupBy.values, description="分组：镇街、中队、队员、网格、问题类型、来源、等级、日、周、月")],
        responses={200: EventFiguresSerializer})
    def get(self, request):
        """Event figures: received (by source), response / arrival / handling times from intake (median,
        p90), each SLA stage's on-time rate, on-time closure, escalations, satisfaction, front-line share."""
        period = params.parse(request.user, request.query_params)
        rows = event_figures.event_figures(request.user, period)
        return Response(EventFiguresSerializer({**_envelope(period, event_figures.DEFINITIONS), "rows": rows}).data)


class CreditStatsView(APIView):
    permission_classes = [FIGURE_READERS]

    @extend_schema(parameters=[*PERIOD_PARAMETERS, OpenApiParameter(
        "group_by", OpenApiTypes.STR, enum=[g.value for g in credit_figures.GROUPS],
        description="分组：镇街、网格（当前颜色分布与区间内的变化），或日、周、月（区间内的变化）")],
        responses={200: CreditFiguresSerializer})
    def get(self, request):
        """Credit: the colours of the area's subjects now (by major category), and the colour changes of the
        period (by the colour changed to, and how many subjects changed)."""
        period = params.parse(request.user, request.query_params,
                              group_by_allowed=tuple(g.value for g in credit_figures.GROUPS))
        rows = credit_figures.credit_figures(request.user, period)
        return Response(CreditFiguresSerializer({**_envelope(period, credit_figures.DEFINITIONS), "rows": rows}).data)


STREET_OR_TIME = OpenApiParameter("group_by", OpenApiTypes.STR, enum=[g.value for g in inspection_figures.GROUPS],
                                  description="分组：镇街、中队、队员（检查人员/承办人，每人及其中队各计一次）、网格（对象所在网格），或日、周、月（北京时间）")


class InspectionStatsView(APIView):
    permission_classes = [FIGURE_READERS]

    @extend_schema(parameters=[*PERIOD_PARAMETERS, STREET_OR_TIME], responses={200: InspectionFiguresSerializer})
    def get(self, request):
        """Inspections (综合查一次): visits made, subjects inspected, problems found and how they were
        rectified (on the spot, by the deadline, overdue), the separate visits the joint ones replaced and the
        reduction in percent."""
        period = params.parse(request.user, request.query_params,
                              group_by_allowed=tuple(g.value for g in inspection_figures.GROUPS))
        rows = inspection_figures.inspection_figures(request.user, period)
        return Response(InspectionFiguresSerializer(
            {**_envelope(period, inspection_figures.DEFINITIONS), "rows": rows}).data)


class CaseStatsView(APIView):
    permission_classes = [FIGURE_READERS]

    @extend_schema(parameters=[*PERIOD_PARAMETERS, STREET_OR_TIME], responses={200: CaseFiguresSerializer})
    def get(self, request):
        """Casework: cases filed, closed and closed on time, outcomes (penalty and each lenient ground),
        legal reviews, appeals and their results, the average case-file quality review score."""
        period = params.parse(request.user, request.query_params,
                              group_by_allowed=tuple(g.value for g in case_figures.GROUPS))
        rows = case_figures.case_figures(request.user, period)
        return Response(CaseFiguresSerializer({**_envelope(period, case_figures.DEFINITIONS), "rows": rows}).data)


class TrendStatsView(APIView):
    permission_classes = [FIGURE_READERS]

    @extend_schema(parameters=[*PERIOD_PARAMETERS, OpenApiParameter(
        "group_by", OpenApiTypes.STR, enum=[g.value for g in TIME_GROUPS], description="时段：日、周（默认）、月")],
        responses={200: TrendsSerializer})
    def get(self, request):
        """High-frequency problem trends: counts per problem type per day / week / month, a moving average,
        and the same period a year before."""
        period = params.parse(request.user, request.query_params, default_days=12 * 7,
                              group_by_allowed=tuple(g.value for g in TIME_GROUPS))
        interval = period.group_by or GroupBy.WEEK
        data = trend_figures.trends(request.user, period, interval=interval)
        return Response(TrendsSerializer({**_envelope(period, trend_figures.DEFINITIONS), **data}).data)


class ScreenStatsView(APIView):
    permission_classes = [FIGURE_READERS]

    @extend_schema(parameters=[
        OpenApiParameter("area", OpenApiTypes.STR, description="区域编码；默认本人全部辖区；他人辖区 404"),
        OpenApiParameter("from", OpenApiTypes.DATE, description="开始日期（含），默认今天"),
        OpenApiParameter("to", OpenApiTypes.DATE, description="结束日期（含），默认今天")],
        responses={200: ScreenFiguresSerializer})
    def get(self, request):
        """The big screen's figures (today by default): events by source, severity and problem type, each
        SLA stage's on-time rate; the same numbers as GET /api/v1/stats/events/ for the same area and days."""
        period = params.parse(request.user, request.query_params, default_days=1, group_by_allowed=())
        data = screen_figures.screen_figures(request.user, period)
        return Response(ScreenFiguresSerializer({**_envelope(period, screen_figures.DEFINITIONS), **data}).data)


def _flag(request, name) -> bool:
    return request.query_params.get(name) in ("1", "true")


class WarningListView(ListAPIView):
    """Hot-area warnings in the asker's areas, newest first; `?open=1`: only those raised or acknowledged;
    `?boundary=1`: each with its grid's boundary (what the desk's and the big screen's maps hatch)."""

    permission_classes = [FIGURE_READERS]

    @extend_schema(parameters=[OpenApiParameter("open", OpenApiTypes.BOOL, description="只看未解除的预警"),
                               OpenApiParameter("boundary", OpenApiTypes.BOOL, description="附网格边界（GeoJSON）")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_serializer_class(self):
        return MapWarningSerializer if _flag(self.request, "boundary") else WarningSerializer

    def get_queryset(self):
        return warning_selectors.warnings_for(self.request.user, open_only=_flag(self.request, "open"))


class WarningDetailView(APIView):
    permission_classes = [FIGURE_READERS]

    @extend_schema(responses={200: WarningSerializer})
    def get(self, request, pk):
        return Response(WarningSerializer(warning_selectors.get_warning_for(request.user, pk)).data)


class WarningAcknowledgeView(APIView):
    permission_classes = [roles_required(DISPATCHER, TEAM_LEADER, BUREAU_STAFF)]

    @extend_schema(request=AcknowledgeSerializer, responses={200: WarningSerializer})
    def post(self, request, pk):
        """Take note of a raised warning, with a note (what was done). A warning already acknowledged or
        expired: 409."""
        warning = warning_selectors.get_warning_for(request.user, pk)
        data = AcknowledgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = services.acknowledge_warning(request.user, warning, note=data.validated_data["note"])
        return Response(WarningSerializer(warning_selectors.get_warning_for(request.user, done.pk)).data)


class AssessmentView(APIView):
    permission_classes = [FIGURE_READERS]

    @extend_schema(parameters=[
        OpenApiParameter("month", OpenApiTypes.STR, required=True, description="考核月份 YYYY-MM"),
        OpenApiParameter("level", OpenApiTypes.STR, enum=["team", "officer"], description="按中队（默认）或队员"),
        OpenApiParameter("area", OpenApiTypes.STR, description="区域编码；默认本人全部辖区")],
        responses={200: ScorecardSerializer})
    def get(self, request):
        """The monthly assessment: each team's (or officer's) score from the month's event figures with the
        weights bureau staff set, ranked best first."""
        period = params.parse(request.user, {"area": request.query_params.get("area", "")})
        card = assessment.scorecard(request.user, month=request.query_params.get("month"),
                                    level=request.query_params.get("level") or "team", area=period.area)
        return Response(ScorecardSerializer(card).data)


class AssessmentWeightsView(APIView):
    permission_classes = [FIGURE_READERS]

    @extend_schema(responses={200: WeightsSerializer})
    def get(self, request):
        return Response(assessment.weights())

    @extend_schema(request=WeightsSerializer, responses={200: WeightsSerializer})
    def put(self, request):
        """Bureau staff of the whole district set the weights (0–100 each); the change is audited."""
        data = WeightsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.set_assessment_weights(request.user, weights=data.validated_data))
