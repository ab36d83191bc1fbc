"""Reads of casework, scoped by the asking user's areas (a case belongs to its street; a case offered to
another street by a transfer is seen there too until it is answered)."""
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import DECIDED_STATUSES, FINAL_STATUSES, AppealResult, PartyKind, Status, TransferStatus
from cases.models import (
    Appeal, Case, CaseMatter, CaseRecord, ColorAppeal, Evidence, LenientListEntry, QualityChecklistItem, QualityReview,
    Transfer,
)
from core.exceptions import DomainError, NotFound
from core.masking import mask_value
from core.review import ReviewItem
from core.roles import BUREAU_STAFF, TEAM_LEADER, has_role
from grids import selectors as grid_selectors
from grids.models import Officer

LIST_RELATED = ("street", "subject")


def _scope_q(user) -> Q | None:
    own = grid_selectors.scope_q(user, "street__path")
    if own is None:
        return None
    offered = grid_selectors.scope_q(user, "path")
    from grids.models import Area

    streets = Area.objects.filter(offered).values("pk")
    pending = Transfer.objects.filter(status=TransferStatus.PENDING, to_street__in=streets).values("case_id")
    return own | Q(pk__in=pending)


def cases_for(user) -> QuerySet:
    qs = Case.objects.select_related(*LIST_RELATED).defer("street__boundary")
    q = _scope_q(user)
    return qs if q is None else qs.filter(q)


def with_detail(qs: QuerySet) -> QuerySet:
    return qs.select_related("catalog_version", "filed_by", "decided_by", "finding").prefetch_related(
        Prefetch("matters", CaseMatter.objects.select_related("matter", "department")),
        Prefetch("handlers", Officer.objects.select_related("user", "team")),
        Prefetch("evidence", Evidence.objects.select_related("added_by")),
        Prefetch("records", CaseRecord.objects.order_by("at", "id")),
        Prefetch("transfers", Transfer.objects.select_related("to_street", "to_department")),
        "appeals", "quality_reviews",
    )


def get_case_for(user, case_id, *, detail=False) -> Case:
    """The case if the user may see it; otherwise (another street's, or none) NotFound."""
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        raise NotFound(_("案件不存在。")) from None
    qs = cases_for(user)
    if detail:
        qs = with_detail(qs)
    case = qs.filter(pk=case_id).first()
    if case is None:
        raise NotFound(_("案件不存在。"))
    return case


def handler_ids(case: Case) -> set[int]:
    return {o.pk for o in case.handlers.all()}


def is_handler(user, case: Case) -> bool:
    officer = getattr(user, "officer", None) if getattr(user, "is_authenticated", False) else None
    try:
        return officer is not None and officer.pk in handler_ids(case)
    except Officer.DoesNotExist:  # pragma: no cover - reverse one-to-one without a row
        return False


def may_see_person(user, case: Case) -> bool:
    """Only the handlers see a private party's name, ID number and phone in full."""
    return getattr(user, "is_superuser", False) or is_handler(user, case)


def earlier_violations(subject_id, matter_code: str, *, exclude_case_id=None) -> int:
    """How many earlier decided cases (not revoked on appeal) found this subject in breach of this
    matter: none means a first violation (首违)."""
    qs = CaseMatter.objects.filter(
        case__subject_id=subject_id, matter__code=matter_code, case__status__in=DECIDED_STATUSES,
    ).exclude(case__appeals__result=AppealResult.REVOKED)
    if exclude_case_id:
        qs = qs.exclude(case_id=exclude_case_id)
    return qs.count()


def lenient_grounds(matter_codes) -> dict[str, set[str]]:
    """{matter code: the lenient grounds the district's lists allow for it}."""
    out: dict[str, set[str]] = {}
    for code, ground in LenientListEntry.objects.filter(matter_code__in=list(matter_codes), active=True).values_list(
            "matter_code", "ground"):
        out.setdefault(code, set()).add(ground)
    return out


def checklist() -> list[QualityChecklistItem]:
    return list(QualityChecklistItem.objects.filter(active=True))


def open_appeal(case: Case) -> Appeal | None:
    return case.appeals.filter(result=AppealResult.PENDING).first()


def pending_transfer(case: Case) -> Transfer | None:
    return case.transfers.filter(status=TransferStatus.PENDING).select_related("to_street", "to_department").first()


def due_soon_q(now=None) -> Q:
    now = now or timezone.now()
    soon = now + timedelta(hours=float(getattr(settings, "CASES_REMIND_BEFORE_HOURS", 24)))
    return Q(step_due_at__lte=soon) & ~Q(status__in=FINAL_STATUSES)


def queue_for(user, *, status=None, overdue=None) -> QuerySet:
    """The case queue: open cases first by their step's deadline."""
    qs = cases_for(user)
    if status:
        qs = qs.filter(status=status)
    if overdue is not None:
        qs = qs.filter(overdue=overdue)
    return qs.order_by(F("step_due_at").asc(nulls_last=True), "id")


def disclosures(now=None) -> QuerySet:
    """Decisions open to the public (执法公示): published, still in the disclosure period, not withdrawn."""
    now = now or timezone.now()
    return (Case.objects.filter(disclosed_at__isnull=False, disclosed_at__lte=now, disclosed_until__gt=now,
                                disclosure_withdrawn_at__isnull=True)
            .select_related("street", "subject")
            .prefetch_related(Prefetch("matters", CaseMatter.objects.select_related("matter", "department")))
            .order_by("-disclosed_at", "-id"))


def mask(value: str) -> str:
    return mask_value(value)


def party_label(case: Case, *, full: bool) -> str:
    """How the party is named to a reader: a business by its name; a person by name only for `full`."""
    if case.party_kind == PartyKind.BUSINESS:
        return case.subject.name if case.subject_id else ""
    return case.person_name if full else mask_value(case.person_name)


def quality_scores(user) -> dict:
    """案卷评查 figures over the user's cases: the average score (percent of the maximum) per team and per
    handler, with how many reviews each rests on (a review counts once per team, however many of its
    case's handlers are in it)."""
    rows = (QualityReview.objects.filter(case__in=cases_for(user).values("pk"))
            .values("pk", "total", "max_total", "case__handlers__pk", "case__handlers__name",
                    "case__handlers__team__code", "case__handlers__team__name"))
    teams, handlers, counted = {}, {}, set()

    def add(bucket, key, label: dict, pct: float):
        entry = bucket.setdefault(key, {**label, "reviews": 0, "sum": 0.0})
        entry["reviews"] += 1
        entry["sum"] += pct

    for r in rows:
        pct = 100.0 * r["total"] / r["max_total"] if r["max_total"] else 0.0
        add(handlers, r["case__handlers__pk"], {"officer": r["case__handlers__pk"], "name": r["case__handlers__name"]},
            pct)
        team = r["case__handlers__team__code"]
        if (r["pk"], team) not in counted:
            counted.add((r["pk"], team))
            add(teams, team, {"team": team, "name": r["case__handlers__team__name"]}, pct)

    def averages(bucket):
        return [{**{k: v for k, v in e.items() if k != "sum"}, "average_percent": round(e["sum"] / e["reviews"], 1)}
                for e in bucket.values()]
    return {"teams": averages(teams), "handlers": averages(handlers)}


def review_items(user) -> list[ReviewItem]:
    """What waits for this team leader (or bureau staff): cases at review, transfers offered to their
    street, open appeals; the review queue merges these with the other apps' items."""
    if not has_role(user, TEAM_LEADER, BUREAU_STAFF):
        return []
    items = []
    scoped = cases_for(user)
    if has_role(user, TEAM_LEADER):
        for case in scoped.filter(status=Status.REVIEW):
            items.append(ReviewItem(
                kind="case", id=case.pk, title=_("案件待审核：%(n)s") % {"n": case.number}, street=case.street.code,
                street_name=case.street.name, waiting_since=case.updated_at, due_at=case.step_due_at,
                url=reverse("cases:detail", args=[case.pk]), api_url=f"/api/v1/cases/{case.pk}/"))
    transfers = Transfer.objects.filter(status=TransferStatus.PENDING, case__in=scoped.values("pk")).select_related(
        "case__street", "to_street")
    for t in transfers:
        mine = (t.to_street_id and grid_selectors.user_covers_area(user, t.to_street) and has_role(user, TEAM_LEADER)) \
            or (t.to_department_id and has_role(user, BUREAU_STAFF))
        if mine:
            items.append(ReviewItem(
                kind="case", id=t.case_id, title=_("移送待接收：%(n)s") % {"n": t.case.number},
                street=t.case.street.code, street_name=t.case.street.name, waiting_since=t.requested_at, due_at=None,
                url=reverse("cases:detail", args=[t.case_id]), api_url=f"/api/v1/cases/{t.case_id}/"))
    appeals = Appeal.objects.filter(result=AppealResult.PENDING, case__in=scoped.values("pk")).select_related(
        "case__street")
    for a in appeals:
        items.append(ReviewItem(
            kind="appeal", id=a.pk, title=_("复议/申诉待处理：%(n)s") % {"n": a.case.number}, street=a.case.street.code,
            street_name=a.case.street.name, waiting_since=a.lodged_at, due_at=a.due_at,
            url=reverse("cases:detail", args=[a.case_id]), api_url=f"/api/v1/cases/{a.case_id}/"))
    open_colors = list(color_appeals_for(user).filter(result=AppealResult.PENDING))
    streets = grid_selectors.street_and_community_of([a.subject.grid for a in open_colors])
    for a in open_colors:
        street = streets.get(a.subject.grid_id, (None, None))[0]
        items.append(ReviewItem(
            kind="color_appeal", id=a.pk, title=_("信用颜色复议/申诉待处理：%(s)s") % {"s": a.subject.name},
            street=street.code if street else "", street_name=street.name if street else "",
            waiting_since=a.lodged_at, due_at=a.due_at,
            url=reverse("cases:color_appeals") + f"#appeal-{a.pk}", api_url=f"/api/v1/color-appeals/{a.pk}/"))
    return sorted(items, key=ReviewItem.sort_key)


def findings_to_file(user, *, subject_id=None, limit=200) -> list:
    """The picker of /cases/new/: failed findings referred for a case (移送立案), not filed yet, current
    (not corrected), of visits the user may see; a subject's only when `subject_id` is given."""
    from inspections import selectors as inspection_selectors
    from inspections.choices import Result
    from inspections.models import Finding

    try:
        visits = inspection_selectors.visits_for(user).values("pk")
    except DomainError:
        return []
    qs = Finding.objects.filter(visit__in=visits, result=Result.FAIL, referral__isnull=False,
                                referral__consumed_at__isnull=True, corrected_by__isnull=True, cases__isnull=True)
    if subject_id:
        qs = qs.filter(visit__subject_id=subject_id)
    return list(qs.select_related("visit__subject").only("id", "item_text", "recorded_at", "visit__subject__name")
                .order_by("-recorded_at", "-id")[:limit])


def color_appeals_for(user) -> QuerySet:
    """Appeals against a colour, of the subjects in the user's areas."""
    return (ColorAppeal.objects.filter(subject__in=grid_selectors.subjects_for(user).values("pk"))
            .select_related("subject__grid", "recorded_by", "decided_by").defer("subject__grid__boundary"))


def get_color_appeal_for(user, appeal_id) -> ColorAppeal:
    try:
        return color_appeals_for(user).get(pk=appeal_id)
    except (ColorAppeal.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("复议/申诉不存在。")) from None
