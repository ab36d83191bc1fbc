"""Output serializers of the figures: each field's help text is the figure's definition (one text, also
shown on hover on /reports/)."""
from rest_framework import serializers

from analytics.choices import GroupBy, WarningStatus
from analytics.models import HotspotWarning
from analytics.selectors.cases import DEFINITIONS as CASE_DEFINITIONS
from analytics.selectors.events import DEFINITIONS as EVENT_DEFINITIONS
from analytics.selectors.inspections import DEFINITIONS as INSPECTION_DEFINITIONS
from analytics.selectors.trends import DEFINITIONS as TREND_DEFINITIONS


def _help(key):
    return str(EVENT_DEFINITIONS[key])


class StageFigureSerializer(serializers.Serializer):
    decided = serializers.IntegerField(help_text="已完成或已超时的时限数")
    on_time = serializers.IntegerField(help_text="在时限内完成的时限数")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="按时率（%）")


class EventFiguresRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="分组的值（不分组时为 null）")
    label = serializers.CharField(allow_null=True, help_text="分组的名称")
    received = serializers.IntegerField(help_text=_help("received"))
    by_source = serializers.DictField(child=serializers.IntegerField(), help_text=_help("by_source"))
    resolved = serializers.IntegerField(help_text=_help("resolved"))
    on_time_closure_rate = serializers.FloatField(allow_null=True, help_text=_help("on_time_closure_rate"))
    escalations = serializers.IntegerField(help_text=_help("escalations"))
    satisfaction_avg = serializers.FloatField(allow_null=True, help_text=_help("satisfaction_avg"))
    satisfaction_good_rate = serializers.FloatField(allow_null=True, help_text=_help("satisfaction_good_rate"))
    front_line_rate = serializers.FloatField(allow_null=True, help_text=_help("front_line_rate"))
    stages = serializers.DictField(child=StageFigureSerializer(), help_text=_help("stages"))
    response_median_s = serializers.FloatField(allow_null=True, help_text=_help("response_median_s"))
    response_p90_s = serializers.FloatField(allow_null=True, help_text=_help("response_p90_s"))
    arrival_median_s = serializers.FloatField(allow_null=True, help_text=_help("arrival_median_s"))
    arrival_p90_s = serializers.FloatField(allow_null=True, help_text=_help("arrival_p90_s"))
    handling_median_s = serializers.FloatField(allow_null=True, help_text=_help("handling_median_s"))
    handling_p90_s = serializers.FloatField(allow_null=True, help_text=_help("handling_p90_s"))
    complaints = serializers.IntegerField(help_text=_help("complaints"))
    complaints_before = serializers.IntegerField(allow_null=True, help_text=_help("complaints_before"))
    complaints_change_percent = serializers.FloatField(allow_null=True, help_text=_help("complaints_change_percent"))


class FiguresEnvelopeSerializer(serializers.Serializer):
    area = serializers.CharField(allow_null=True, help_text="区域编码（null：本人全部辖区）")
    date_from = serializers.DateField(help_text="开始日期（含）")
    date_to = serializers.DateField(help_text="结束日期（含）")
    group_by = serializers.ChoiceField(choices=GroupBy.choices, allow_null=True)
    definitions = serializers.DictField(child=serializers.CharField(), help_text="每项指标的计算口径")


class EventFiguresSerializer(FiguresEnvelopeSerializer):
    rows = EventFiguresRowSerializer(many=True)


class TrendSeriesSerializer(serializers.Serializer):
    problem_type = serializers.CharField()
    name = serializers.CharField()
    total = serializers.IntegerField()
    counts = serializers.ListField(child=serializers.IntegerField(), help_text=str(TREND_DEFINITIONS["count"]))
    moving_average = serializers.ListField(child=serializers.FloatField(),
                                           help_text=str(TREND_DEFINITIONS["moving_average"]))
    year_before = serializers.ListField(child=serializers.IntegerField(), help_text=str(TREND_DEFINITIONS["year_before"]))


class TrendsSerializer(FiguresEnvelopeSerializer):
    interval = serializers.ChoiceField(choices=[GroupBy.DAY, GroupBy.WEEK, GroupBy.MONTH])
    buckets = serializers.ListField(child=serializers.DateField(), help_text="各时段的第一天")
    series = TrendSeriesSerializer(many=True)


def _credit_help(key):
    from analytics.selectors.credit import DEFINITIONS

    return str(DEFINITIONS[key])


class ColorCountsSerializer(serializers.Serializer):
    green = serializers.IntegerField()
    yellow = serializers.IntegerField()
    red = serializers.IntegerField()


class ColorChangesSerializer(serializers.Serializer):
    to_green = serializers.IntegerField()
    to_yellow = serializers.IntegerField()
    to_red = serializers.IntegerField()


class CreditFiguresRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="分组的值（不分组时为 null）")
    label = serializers.CharField(allow_null=True, help_text="分组的名称")
    total = serializers.IntegerField(help_text="在册对象数")
    colors = ColorCountsSerializer(help_text=_credit_help("colors"))
    by_category = serializers.DictField(child=ColorCountsSerializer(), help_text=_credit_help("by_category"))
    changes = ColorChangesSerializer(help_text=_credit_help("changes"))
    subjects_changed = serializers.IntegerField(help_text=_credit_help("subjects_changed"))


class CreditFiguresSerializer(FiguresEnvelopeSerializer):
    rows = CreditFiguresRowSerializer(many=True)


class WarningSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    street = serializers.CharField(source="street.code", allow_null=True, default=None)
    street_name = serializers.CharField(source="street.name", allow_null=True, default=None)
    status = serializers.ChoiceField(choices=WarningStatus.choices)
    acknowledged_by = serializers.SerializerMethodField()

    class Meta:
        model = HotspotWarning
        fields = ["id", "grid", "grid_name", "street", "street_name", "problem_type_code", "problem_type_name",
                  "window_start", "window_end", "count", "baseline", "p_value", "peak_count", "status", "raised_at",
                  "acknowledged_at", "acknowledged_by", "note", "expired_at"]

    def get_acknowledged_by(self, obj) -> str | None:
        from core.audit import actor_label

        return actor_label(obj.acknowledged_by) if obj.acknowledged_by_id else None


class MapWarningSerializer(WarningSerializer):
    """A warning as the desk's map draws it: with its grid's boundary (GeoJSON geometry)."""

    boundary = serializers.JSONField(source="grid.boundary", allow_null=True)

    class Meta(WarningSerializer.Meta):
        fields = [*WarningSerializer.Meta.fields, "boundary"]


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")


class ScorecardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="名次（无任何指标数据的为 null，排在最后）")
    key = serializers.CharField(help_text="中队或队员的 id")
    label = serializers.CharField(allow_null=True)
    score = serializers.FloatField(allow_null=True, help_text="得分：各有数据指标的加权平均（0–100）")
    indicators = serializers.DictField(child=serializers.FloatField(allow_null=True),
                                       help_text="各指标的值（%）：on_time_closure, stage_on_time, satisfaction, front_line")
    received = serializers.IntegerField(help_text="当月受理事件数")


class ScorecardSerializer(serializers.Serializer):
    month = serializers.CharField()
    level = serializers.ChoiceField(choices=["team", "officer"])
    weights = serializers.DictField(child=serializers.FloatField())
    rows = ScorecardRowSerializer(many=True)


class WeightsSerializer(serializers.Serializer):
    on_time_closure = serializers.FloatField(required=False, min_value=0, max_value=100)
    stage_on_time = serializers.FloatField(required=False, min_value=0, max_value=100)
    satisfaction = serializers.FloatField(required=False, min_value=0, max_value=100)
    front_line = serializers.FloatField(required=False, min_value=0, max_value=100)


def _inspection_help(key):
    return str(INSPECTION_DEFINITIONS[key])


class GroupRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="分组的值（不分组时为 null）")
    label = serializers.CharField(allow_null=True, help_text="分组的名称")


class InspectionFiguresRowSerializer(GroupRowSerializer):
    visits = serializers.IntegerField(help_text=_inspection_help("visits"))
    joint_visits = serializers.IntegerField(help_text=_inspection_help("joint_visits"))
    subjects_inspected = serializers.IntegerField(help_text=_inspection_help("subjects_inspected"))
    findings = serializers.IntegerField(help_text=_inspection_help("findings"))
    rectified_on_the_spot = serializers.IntegerField(help_text=_inspection_help("rectified_on_the_spot"))
    rectified_by_deadline = serializers.IntegerField(help_text=_inspection_help("rectified_by_deadline"))
    rectification_overdue = serializers.IntegerField(help_text=_inspection_help("rectification_overdue"))
    rectification_open = serializers.IntegerField(help_text=_inspection_help("rectification_open"))
    separate_visits_replaced = serializers.IntegerField(help_text=_inspection_help("separate_visits_replaced"))
    reduction_percent = serializers.FloatField(allow_null=True, help_text=_inspection_help("reduction_percent"))
    reduction_percent_previous_month = serializers.FloatField(
        allow_null=True, help_text=_inspection_help("reduction_percent_previous_month"))
    reduction_percent_year_before = serializers.FloatField(
        allow_null=True, help_text=_inspection_help("reduction_percent_year_before"))


class InspectionFiguresSerializer(FiguresEnvelopeSerializer):
    rows = InspectionFiguresRowSerializer(many=True)


def _case_help(key):
    return str(CASE_DEFINITIONS[key])


class OutcomeCountsSerializer(serializers.Serializer):
    penalty = serializers.IntegerField(help_text="处罚")
    reduced = serializers.IntegerField(help_text="公益减罚")
    no_penalty = serializers.IntegerField(help_text="不予处罚")


class LenientGroundCountsSerializer(serializers.Serializer):
    minor = serializers.IntegerField(help_text="轻微不罚")
    first = serializers.IntegerField(help_text="首违不罚")
    mediated = serializers.IntegerField(help_text="调解不罚")


class AppealResultCountsSerializer(serializers.Serializer):
    upheld = serializers.IntegerField(help_text="维持")
    revoked = serializers.IntegerField(help_text="撤销")
    changed = serializers.IntegerField(help_text="变更")
    pending = serializers.IntegerField(help_text="待决定")


class CaseFiguresRowSerializer(GroupRowSerializer):
    filed = serializers.IntegerField(help_text=_case_help("filed"))
    closed = serializers.IntegerField(help_text=_case_help("closed"))
    closed_on_time = serializers.IntegerField(help_text=_case_help("closed_on_time"))
    on_time_rate = serializers.FloatField(allow_null=True, help_text=_case_help("on_time_rate"))
    outcomes = OutcomeCountsSerializer(help_text=_case_help("outcomes"))
    lenient_grounds = LenientGroundCountsSerializer(help_text=_case_help("lenient_grounds"))
    legal_reviews = serializers.IntegerField(help_text=_case_help("legal_reviews"))
    legal_reviews_returned = serializers.IntegerField(help_text=_case_help("legal_reviews_returned"))
    appeals = serializers.IntegerField(help_text=_case_help("appeals"))
    appeal_results = AppealResultCountsSerializer(help_text=_case_help("appeal_results"))
    quality_reviews = serializers.IntegerField(help_text=_case_help("quality_reviews"))
    quality_score_avg = serializers.FloatField(allow_null=True, help_text=_case_help("quality_score_avg"))


class CaseFiguresSerializer(FiguresEnvelopeSerializer):
    rows = CaseFiguresRowSerializer(many=True)


def _screen_help(key):
    from analytics.selectors.screen import DEFINITIONS

    return str(DEFINITIONS[key])


class CountSerializer(serializers.Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField()


class SourceCountSerializer(CountSerializer):
    source = serializers.CharField()


class SeverityCountSerializer(CountSerializer):
    severity = serializers.CharField()


class ProblemTypeCountSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class ScreenStageSerializer(StageFigureSerializer):
    stage = serializers.CharField()
    label = serializers.CharField()


class ScreenOnTimeSerializer(serializers.Serializer):
    rate = serializers.FloatField(allow_null=True, help_text=_screen_help("on_time_rate"))
    stages = ScreenStageSerializer(many=True, help_text=_screen_help("on_time"))


class ScreenFiguresSerializer(FiguresEnvelopeSerializer):
    received = serializers.IntegerField(help_text=_screen_help("received"))
    by_source = SourceCountSerializer(many=True, help_text=_screen_help("by_source"))
    by_severity = SeverityCountSerializer(many=True, help_text=_screen_help("by_severity"))
    top_problem_types = ProblemTypeCountSerializer(many=True, help_text=_screen_help("top_problem_types"))
    on_time = ScreenOnTimeSerializer()
    on_time_closure_rate = serializers.FloatField(allow_null=True, help_text=_screen_help("on_time_closure_rate"))
    satisfaction_good_rate = serializers.FloatField(allow_null=True, help_text=_screen_help("satisfaction_good_rate"))
