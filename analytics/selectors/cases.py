"""Case figures (执法办案效能): filed, closed and closed on time, outcomes (penalty and each lenient ground),
legal reviews, appeals and their results, case-file quality review scores, per street, team or officer (a
case counts for each of its handlers and each of their teams), grid or local day / week / month. Each figure counts what happened in the period (its own date), from casework's own records,
scoped like every read of cases (cases.selectors.cases_for); computed in the database."""
from django.db.models import Avg, Count, F, FloatField, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from analytics.caching import cached
from analytics.choices import TIME_GROUPS, GroupBy
from analytics.params import Period
from analytics.selectors.figures import PEOPLE_GROUPS, distinct_average, grouped_counts, rate, street_or_time
from cases import selectors as case_selectors
from cases.choices import AppealResult, LegalOpinion, LenientGround, Outcome, Step
from cases.models import Appeal, CaseMatter, CaseRecord, QualityReview

GROUPS = (GroupBy.STREET, GroupBy.TEAM, GroupBy.OFFICER, GroupBy.GRID, *TIME_GROUPS)
OUTCOMES = tuple(Outcome.values)  # penalty, reduced, no_penalty
GROUNDS = tuple(g for g in LenientGround.values if g)  # minor, first, mediated
APPEAL_RESULTS = {"upheld": AppealResult.UPHELD, "revoked": AppealResult.REVOKED, "changed": AppealResult.CHANGED,
                  "pending": AppealResult.PENDING}

DEFINITIONS = {
    "filed": _("立案数：立案时间在区间内的案件。"),
    "closed": _("结案数：结案时间在区间内的案件。"),
    "closed_on_time": _("按期结案数：其中在法定决定期限内（含恰好到期）作出决定的。"),
    "on_time_rate": _("按期结案率（%）：按期结案数 ÷ 结案数；没有结案时为空。"),
    "outcomes": _("按处理结果：区间内作出决定的案件中，各事项的处理结果（处罚、公益减罚、不予处罚）的事项数。"),
    "lenient_grounds": _("按从轻情形：同上，适用各从轻情形（轻微不罚、首违不罚、调解不罚）的事项数。"),
    "legal_reviews": _("法制审核数：区间内出具的法制审核意见（同意与退回）。"),
    "legal_reviews_returned": _("法制审核退回数：其中意见为退回的。"),
    "appeals": _("复议/申诉数：区间内提出的行政复议与申诉。"),
    "appeal_results": _("复议/申诉结果：区间内提出的复议/申诉按结果（维持、撤销、变更、待决定）计数。"),
    "quality_reviews": _("案卷评查数：区间内完成的评查。"),
    "quality_score_avg": _("案卷评查平均分：各次评查得分折算为百分制（得分 ÷ 满分 × 100）的平均；没有评查时为空。"),
}


def scoped_cases(user, period: Period):
    """The user's cases (cases.selectors' scope), within the chosen area: its streets' cases, or, for a
    community or grid, the cases of its subjects."""
    qs = case_selectors.cases_for(user)
    if period.area is not None:
        qs = qs.filter(Q(street__path__startswith=period.area.path) | Q(subject__grid__path__startswith=period.area.path))
    return qs


def _in(period: Period, field: str) -> dict:
    return {f"{field}__gte": period.start, f"{field}__lt": period.end}


@cached("cases")
def case_figures(user, period: Period) -> list[dict]:
    """One row per street, team, officer, grid or time bucket (one row in all without `group_by`; zeros and nulls for an empty
    period). A time bucket holds what happened in it: cases filed then, closed then, decided then, …"""
    cases = scoped_cases(user, period)
    ids = cases.values("pk")
    g = period.group_by

    def by(when, street="street"):
        return street_or_time(g, when=when, street=street, people="handlers")

    # Distinct counts throughout: grouped by team, a case with two handlers of one team joins twice.
    def n(**q):
        return Count("pk", filter=Q(**q) if q else None, distinct=True)

    reviews = QualityReview.objects.filter(case__in=ids, **_in(period, "reviewed_at"))
    score = Cast("total", FloatField()) * 100.0 / Cast("max_total", FloatField())
    if g in PEOPLE_GROUPS:
        quality = distinct_average(reviews, *by("reviewed_at", "case__street"), score,
                                   count="quality_reviews", average="quality")
    else:
        quality = grouped_counts(reviews, *by("reviewed_at", "case__street"), quality_reviews=Count("pk"),
                                 quality=Avg(score))

    parts = [
        grouped_counts(cases.filter(**_in(period, "filed_at")), *by("filed_at"), filed=n()),
        grouped_counts(cases.filter(**_in(period, "closed_at")), *by("closed_at"), closed=n(),
                       closed_on_time=n(decided_at__lte=F("decision_due_at"))),
        grouped_counts(CaseMatter.objects.filter(case__in=ids, **_in(period, "case__decided_at")),
                       *by("case__decided_at", "case__street"),
                       **{f"o_{o}": n(outcome=o) for o in OUTCOMES},
                       **{f"g_{x}": n(lenient_ground=x) for x in GROUNDS}),
        grouped_counts(CaseRecord.objects.filter(case__in=ids, step=Step.LEGAL_REVIEW, **_in(period, "at")),
                       *by("at", "case__street"), legal_reviews=n(),
                       legal_reviews_returned=n(data__opinion=LegalOpinion.RETURN)),
        grouped_counts(Appeal.objects.filter(case__in=ids, **_in(period, "lodged_at")), *by("lodged_at", "case__street"),
                       appeals=n(), **{f"a_{k}": n(result=v) for k, v in APPEAL_RESULTS.items()}),
        quality,
    ]
    keys = set().union(*parts) | ({None} if g is None else set())
    out = []
    for key in keys:
        got = {}
        for part in parts:
            got.update({k: v for k, v in part.get(key, {}).items() if not (k == "label" and v is None)})
        closed = got.get("closed", 0)
        out.append({
            "key": key, "label": got.get("label") or key,
            "filed": got.get("filed", 0), "closed": closed, "closed_on_time": got.get("closed_on_time", 0),
            "on_time_rate": rate(got.get("closed_on_time", 0), closed),
            "outcomes": {o: got.get(f"o_{o}", 0) for o in OUTCOMES},
            "lenient_grounds": {x: got.get(f"g_{x}", 0) for x in GROUNDS},
            "legal_reviews": got.get("legal_reviews", 0), "legal_reviews_returned": got.get("legal_reviews_returned", 0),
            "appeals": got.get("appeals", 0), "appeal_results": {k: got.get(f"a_{k}", 0) for k in APPEAL_RESULTS},
            "quality_reviews": got.get("quality_reviews", 0),
            "quality_score_avg": None if got.get("quality") is None else round(got["quality"], 1),
        })
    out.sort(key=lambda r: (r["key"] is None, str(r["key"])))
    return out
