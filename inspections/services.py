"""Every write of the inspect-once workflow: one function per action, one transaction each, audited.

Plans: draft_plan (who is due → one joint visit per subject → days and teams → routes), add_visit,
remove_visit, move_visit, approve_plan (the street's team leader only); a change to an approved plan is
an amendment (counted, audited). Visits: create_visit (one-off or standalone), record_finding (idempotent
by the phone's client id; a second record of an item is a linked correction), add_photo, complete_visit,
reinspect, refer_to_case. The overdue sweep (sweep_overdue) marks rectifications past their comply-by
date, posts the credit fact and sends `signals.rectification_overdue` exactly once per finding.

Credit facts (credit.services.facts), referenced by the finding: a failed item posts
`inspection_finding` (its weight), a deadline posts `rectification_open`; overdue posts
`rectification_overdue`; done withdraws open + overdue and, when late, posts `rectification_late`;
a correction withdraws the corrected finding's facts.
"""
import base64
import binascii
import calendar
import hashlib
import io
import logging
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, bulk
from core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from core.ids import MAX_ID
from core.roles import OFFICER, TEAM_LEADER, has_role
from credit import effort
from credit.choices import FactKind
from credit.services import facts as credit_facts
from enforcement import selectors as catalog
from enforcement.choices import ScenarioStatus
from enforcement.models import ProblemType, Scenario
from grids import selectors as grid_selectors
from grids.choices import AreaKind, SubjectStatus
from grids.models import Area, Department, Officer, Subject
from inspections import routing, selectors, signals
from inspections.choices import (
    DueReason, OneOffReason, PlanStatus, RectificationKind, RectificationStatus, Result, VisitKind, VisitStatus,
)
from inspections.models import ComplyByDefault, Finding, FindingPhoto, InspectionPlan, Reinspection, Referral, Visit

logger = logging.getLogger(__name__)

SOURCE_APP, FINDING_MODEL = "inspections", "finding"
REASON_PRIORITY = {code: i for i, code in enumerate((
    DueReason.REINSPECTION, DueReason.RED_REINSPECT, DueReason.RED_NEIGHBOUR, DueReason.YELLOW_LOOKBACK,
    DueReason.YELLOW_PATROL, DueReason.SCENARIO, DueReason.GREEN_SPOT_CHECK, DueReason.MANUAL, DueReason.ONE_OFF))}
DEFAULT_COMPLY_BY = ((5, 3), (3, 7), (0, 15))  # (min weight, days) when bureau staff set none
MAX_SIGNATURE_BYTES = 1024 * 1024
MAX_PHOTO_BYTES = 8 * 1024 * 1024


def daily_cap() -> int:
    return int(getattr(settings, "INSPECTIONS_DAILY_CAP", 8))


# --- shared checks ------------------------------------------------------------------------------

def street_for(user, code) -> Area:
    """The plan's street by code: 400 unknown, 404 outside the user's areas."""
    if not code or not isinstance(code, str):
        raise ValidationFailed(fields={"street": [_("此字段为必填项（镇街编码）。")]})
    street = Area.objects.defer("boundary").filter(code=code[:32], kind=AreaKind.STREET).first()
    if street is None:
        raise ValidationFailed(fields={"street": [_("未知镇街：%(code)s。") % {"code": code[:32]}]})
    if not grid_selectors.user_covers_area(user, street):
        raise NotFound(_("镇街不存在。"))
    return street


def plan_month(raw) -> date:
    if not raw or not isinstance(raw, str):
        raise ValidationFailed(fields={"month": [_("此字段为必填项（YYYY-MM）。")]})
    first, _last = effort.parse_month(raw)
    if first < timezone.localdate().replace(day=1):
        raise ValidationFailed(fields={"month": [_("不能为过去的月份制定计划。")]})
    return first


def month_last(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def is_workday(day: date) -> bool:
    """Mon–Fri, with China's public holidays off and their make-up days on (chinese-calendar), where the
    library knows the year; otherwise Mon–Fri."""
    try:
        import chinese_calendar

        return chinese_calendar.is_workday(day)
    except (NotImplementedError, ImportError):
        return day.weekday() < 5


def working_days(first: date, since: date | None = None) -> list[date]:
    last = month_last(first)
    day = max(first, since or first)
    out = []
    while day <= last:
        if is_workday(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def require_planner(actor, street: Area):
    if actor is not None and not has_role(actor, *selectors.PLAN_WRITE_ROLES):
        raise Forbidden(_("只有街道执法队队长或区执法局工作人员可以编制检查计划。"))
    if actor is not None and not grid_selectors.user_covers_area(actor, street):
        raise NotFound(_("镇街不存在。"))


def require_leader(actor, street: Area):
    """The street's team leader: a team leader bound to the street (or to an area holding it)."""
    if actor is None:
        return
    if not has_role(actor, TEAM_LEADER) or not grid_selectors.user_covers_area(actor, street):
        raise Forbidden(_("只有本街道执法队队长可以批准检查计划。"))


def _int_id(value, field) -> int:
    if isinstance(value, bool):
        raise ValidationFailed(fields={field: [_("必须是整数ID。")]})
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationFailed(fields={field: [_("必须是整数ID。")]})
    if not 0 < number <= MAX_ID:
        raise ValidationFailed(fields={field: [_("对象不存在。")]})
    return number


def _subject_in_street(actor, street: Area, subject_id) -> Subject:
    subject_id = _int_id(subject_id, "subject")
    qs = grid_selectors.subjects_for(actor) if actor is not None else Subject.objects.all()
    subject = qs.filter(pk=subject_id, grid__path__startswith=street.path).select_related("grid").first()
    if subject is None:
        raise ValidationFailed(fields={"subject": [_("该管理对象不在本街道。")]})
    return subject


def _clean_officers(street: Area, officer_ids, field="officers") -> list[Officer]:
    if not isinstance(officer_ids, (list, tuple)) or not officer_ids:
        raise ValidationFailed(fields={field: [_("请至少选择一名检查人员。")]})
    ids = sorted({_int_id(o, field) for o in officer_ids})
    # Locked in id order: two planners filling the same officer's day queue up here, not past the cap.
    found = {o.pk: o for o in Officer.objects.select_for_update(of=("self",)).filter(pk__in=ids).select_related("team")}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed(fields={field: [_("执法队员不存在：%(ids)s。") % {"ids": ", ".join(map(str, missing))}]})
    other = [o for o in found.values() if o.team.street_id != street.pk]
    if other:
        raise ValidationFailed(fields={field: [_("%(names)s 不是本街道执法队的队员。") % {
            "names": "、".join(o.name for o in other)}]})
    return [found[i] for i in ids]


def _check_cap(officers: list[Officer], day: date, exclude_visit=None):
    cap = daily_cap()
    qs = Visit.objects.filter(date=day, officers__in=officers)
    if exclude_visit is not None:
        qs = qs.exclude(pk=exclude_visit.pk)
    counts = dict(qs.values_list("officers").annotate(n=Count("id")).order_by())
    full = [o for o in officers if counts.get(o.pk, 0) + 1 > cap]
    if full:
        raise ValidationFailed(fields={"officers": [_("%(names)s 在 %(day)s 已排满 %(cap)d 次检查（每日上限）。") % {
            "names": "、".join(o.name for o in full), "day": day.isoformat(), "cap": cap}]})


def _clean_day(value, first: date | None = None, field="date") -> date:
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value))
        except (TypeError, ValueError):
            raise ValidationFailed(fields={field: [_("日期格式应为 YYYY-MM-DD。")]})
    if first is not None and day.replace(day=1) != first:
        raise ValidationFailed(fields={field: [_("日期必须在计划月份内。")]})
    if day < timezone.localdate():
        raise ValidationFailed(fields={field: [_("日期不能早于今天。")]})
    return day


def _checklist_of(actor, subject: Subject) -> tuple[list[int], int]:
    merged = catalog.merged_checklist(actor if actor is not None else _system_user(), subject.pk)
    codes = [d["code"] for d in merged["departments"]]
    ids = list(Department.objects.filter(code__in=codes).values_list("pk", flat=True))
    return ids, merged["item_count"]


def _amended(actor, plan: InspectionPlan, what: str):
    """A change to an approved plan is an amendment: counted and audited on the plan."""
    if plan is not None and plan.status == PlanStatus.APPROVED:
        InspectionPlan.objects.filter(pk=plan.pk).update(amendments=plan.amendments + 1)
        audit.record(actor, "inspections.plan_amended", plan, changes={"amendments": [plan.amendments,
                                                                                       plan.amendments + 1],
                                                                        "change": [None, what]})
        plan.amendments += 1


def _visit_changes(visit) -> dict:
    return {"subject": visit.subject_id, "date": visit.date, "kind": visit.kind,
            "officers": sorted(visit.officers.values_list("pk", flat=True)), "reason": visit.reason}


def _insert_visit(visit: Visit, officers, department_ids):
    """Insert in a savepoint: the database's one-visit rule may refuse it (a concurrent planner won)."""
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        raise Conflict(_("该管理对象本月已有一次集中检查（一月一次）。"), code="one_visit_per_month")
    visit.officers.set(officers)
    visit.departments.set(department_ids)


def _already_planned(subject_id, first: date) -> bool:
    return Visit.objects.filter(subject_id=subject_id, month=first, kind=VisitKind.CONCENTRATED).exists()


# --- drafting the monthly plan ---------------------------------------------------------------------

class _Team:
    """The street's officers, who can serve which department, and how full each day is."""

    def __init__(self, street: Area):
        self.officers = list(Officer.objects.filter(team__street=street).order_by("id")
                             .prefetch_related("skill_departments"))
        self.by_dept: dict[int, list[int]] = defaultdict(list)
        for o in self.officers:
            for d in {o.home_department_id, *(x.pk for x in o.skill_departments.all())}:
                self.by_dept[d].append(o.pk)
        self.all_ids = [o.pk for o in self.officers]
        self.depts_of = defaultdict(list)
        for d, ids in self.by_dept.items():
            for o in ids:
                self.depts_of[o].append(d)
        self.load: dict[tuple[int, date], int] = defaultdict(int)
        self.month_load: dict[int, int] = defaultdict(int)
        self.cap = daily_cap()
        # (department, day) → how many of its officers are full that day; "any room?" without a scan.
        self.full: dict[tuple[int, date], int] = defaultdict(int)
        self.full_all: dict[date, int] = defaultdict(int)

    def add_load(self, officer_id, day, n=1):
        before = self.load[(officer_id, day)]
        self.load[(officer_id, day)] = before + n
        if before < self.cap <= before + n:
            self.full_all[day] += 1
            for d in self.depts_of[officer_id]:
                self.full[(d, day)] += 1

    def has_room(self, dept_ids, day) -> bool:
        if self.full_all[day] >= len(self.all_ids):
            return False
        return all(not self.by_dept.get(d) or self.full[(d, day)] < len(self.by_dept[d]) for d in dept_ids)

    def free(self, officer_id, day) -> bool:
        return self.load[(officer_id, day)] < self.cap

    def pick(self, dept_ids, day, rng: random.Random | None) -> list[int] | None:
        """A joint team for one visit on `day`: an officer for each department the visit needs (drawn
        at random when `rng`, else the least busy), at least two officers where the team has them.
        None when nobody with room that day can serve."""
        if not self.has_room(dept_ids, day):
            return None
        chosen: list[int] = []
        for d in dept_ids:
            if any(o in self.by_dept.get(d, ()) for o in chosen):
                continue
            pool = [o for o in self.by_dept.get(d, ()) if o not in chosen and self.free(o, day)]
            if not pool:
                if self.by_dept.get(d):
                    return None  # the department has officers, all full that day
                continue  # no officer of it in the street: the comprehensive team covers it
            chosen.append(self._choose(pool, rng))
        while len(chosen) < min(2, len(self.all_ids)):
            pool = [o for o in self.all_ids if o not in chosen and self.free(o, day)]
            if not pool:
                break
            chosen.append(self._choose(pool, rng))
        if not chosen:
            return None
        for o in chosen:
            self.add_load(o, day)
            self.month_load[o] += 1
        return chosen

    def _choose(self, pool, rng):
        if rng is not None:
            return rng.choice(pool)
        return min(pool, key=lambda o: (self.month_load[o], o))


def _due_subjects(actor, street, first, last) -> dict[int, dict]:
    """subject id → {"reason", "text", "date", "reinspects"}: the effort rules, open rectifications,
    campaign scenarios; one entry per subject (its most pressing reason, the earliest day)."""
    out: dict[int, dict] = {}

    def add(subject_id, reason, text, day, reinspects=None):
        cur = out.get(subject_id)
        if cur is None:
            out[subject_id] = {"reason": reason, "text": text, "date": day, "reinspects": reinspects}
            return
        if REASON_PRIORITY[reason] < REASON_PRIORITY[cur["reason"]]:
            cur["reason"] = reason
        if text and text not in cur["text"]:
            cur["text"] = (cur["text"] + "；" + text)[:500]
        cur["date"] = min(cur["date"], day)
        cur["reinspects"] = cur["reinspects"] or reinspects

    reader = actor if actor is not None else _system_user()
    items, _summary = effort.due_in(reader, street, first, last)
    for item in items:
        add(item.subject, item.rule, item.reason, item.due_date)
    open_rects = (Finding.objects.filter(
        visit__street=street, rectification=RectificationKind.DEADLINE, corrected_by__isnull=True,
        rectification_status__in=(RectificationStatus.OPEN, RectificationStatus.OVERDUE), comply_by__lte=last)
        .values_list("pk", "visit__subject_id", "comply_by", "item_text"))
    for finding_id, subject_id, comply_by, text in open_rects:
        add(subject_id, DueReason.REINSPECTION, _("整改复查（期限 %(day)s）：%(text)s") % {
            "day": comply_by.isoformat(), "text": text[:60]}, max(first, comply_by + timedelta(days=1)), finding_id)
    campaigns = list(Scenario.objects.filter(status=ScenarioStatus.PUBLISHED, areas__path__startswith=street.path)
                     .distinct().prefetch_related("categories"))
    for scenario in campaigns:
        area_q = Q()
        for area in scenario.areas.filter(path__startswith=street.path):
            area_q |= grid_selectors.subjects_in_area_q(area)
        qs = Subject.objects.filter(area_q, status=SubjectStatus.ACTIVE)
        cats = [c.pk for c in scenario.categories.all()]
        if cats:
            qs = qs.filter(Q(category_id__in=cats) | Q(category__parent_id__in=cats))
        text = _("监管一件事：%(name)s") % {"name": scenario.name}
        for subject_id in qs.values_list("pk", flat=True):
            add(subject_id, DueReason.SCENARIO, text, first)
    return out


def _system_user():
    """The platform itself as a reader (the sweep, the demo, the bench): sees every subject."""
    return _SYSTEM


class _System:
    is_authenticated = True
    is_superuser = True
    pk = None

    def get_username(self):
        return "system"


_SYSTEM = _System()


def _checklists(actor, subjects: list[Subject]) -> dict[int, tuple[list[int], int]]:
    """Departments and item count of each subject's merged checklist. The merge depends only on the
    subject's category and the published scenarios covering it, so it is computed once per such pair."""
    reader = actor if actor is not None else _system_user()
    scenarios = list(Scenario.objects.filter(status=ScenarioStatus.PUBLISHED).prefetch_related("categories", "areas"))
    scen = [({c.pk for c in s.categories.all()}, {a.pk for a in s.areas.all()}, s.pk) for s in scenarios]
    dept_ids = dict(Department.objects.values_list("code", "pk"))
    cache: dict[tuple, tuple[list[int], int]] = {}
    out = {}
    for s in subjects:
        cats = {s.category_id, s.category.parent_id} - {None}
        areas = set(s.grid.ancestor_ids) | {s.grid_id} | ({s.grid.zone_id} if s.grid.zone_id else set())
        covering = tuple(pk for c, a, pk in scen if (c & cats) or (a & areas))
        key = (s.category_id, covering)
        if key not in cache:
            merged = catalog.merged_checklist(reader, s.pk)
            cache[key] = ([dept_ids[d["code"]] for d in merged["departments"]], merged["item_count"])
        out[s.pk] = cache[key]
    return out


def draft_plan(actor, *, street: str, month: str, subjects=()) -> InspectionPlan:
    """Draft the street's plan for the month: every subject due (effort rules, rectifications to
    re-inspect, campaign scenarios, `subjects` added by hand) as ONE joint visit merging all departments'
    checklist items, its team from the street's officers of those departments, spread over the month's
    working days under the per-officer daily cap, each day's visits in route order. Green spot checks
    draw their inspectors at random (双随机) from the plan's recorded seed."""
    street_area = street_for(actor, street) if actor is not None else Area.objects.get(code=street)
    require_planner(actor, street_area)
    first = plan_month(month)
    if not isinstance(subjects, (list, tuple)):
        raise ValidationFailed(fields={"subjects": [_("必须是管理对象ID列表。")]})
    manual = [_subject_in_street(actor, street_area, s).pk for s in subjects]
    return _draft(actor, street_area, first, manual, since=timezone.localdate())


def _draft(actor, street_area, first, manual, *, since) -> InspectionPlan:
    """The drafting itself, on the working days from `since` (the demo backfills a past month from its
    first day)."""
    last = month_last(first)
    with transaction.atomic():
        if InspectionPlan.objects.filter(street=street_area, month=first).exists():
            raise Conflict(_("该街道本月的检查计划已存在。"), code="plan_exists")
        plan = InspectionPlan(street=street_area, month=first, draw_seed=secrets.token_hex(16),
                              created_by=actor if getattr(actor, "is_authenticated", False) else None)
        try:
            with transaction.atomic():
                plan.save()
        except IntegrityError:
            raise Conflict(_("该街道本月的检查计划已存在。"), code="plan_exists")
        due = _due_subjects(actor, street_area, first, last)
        for subject_id in manual:
            due.setdefault(subject_id, {"reason": DueReason.MANUAL, "text": _("队长手工添加"), "date": first,
                                        "reinspects": None})
        taken = set(Visit.objects.filter(month=first, kind=VisitKind.CONCENTRATED, subject_id__in=list(due))
                    .values_list("subject_id", flat=True)) if len(due) < 5000 else set(
            Visit.objects.filter(month=first, kind=VisitKind.CONCENTRATED).values_list("subject_id", flat=True))
        subject_rows = {s.pk: s for s in Subject.objects.filter(pk__in=[k for k in due if k not in taken])
                        .select_related("category", "grid").defer("grid__boundary")} if due else {}
        checklists = _checklists(actor, list(subject_rows.values()))
        unscheduled = _schedule(plan, street_area, due, subject_rows, checklists, actor, since)
        plan.unscheduled = unscheduled
        plan.save(update_fields=["unscheduled"])
        figures = selectors.plan_figures(plan)
        audit.record(actor, "inspections.plan_drafted", plan, changes={
            "street": [None, street_area.code], "month": [None, f"{first:%Y-%m}"], "status": [None, plan.status],
            "draw_seed": [None, plan.draw_seed], "unscheduled": [None, len(unscheduled)],
            **{k: [None, v] for k, v in figures.items()}})
    return plan


@dataclass
class _Planned:
    """A visit the planner placed, before it is written (plain values: no model instance per row)."""

    subject_id: int
    date: date
    reason: str
    reason_text: str
    item_count: int
    draw_seed: str
    reinspects_id: int | None
    route_order: int = 0


def _schedule(plan, street, due, subject_rows, checklists, actor, since) -> list[dict]:
    """Days, teams and route order for the due subjects; bulk-inserted. Returns the ones left out."""
    team = _Team(street)
    days = working_days(plan.month, since=since)
    # What the officers already carry those days (one-off visits, other plans' visits: none usually).
    for officer_id, day, n in (Visit.objects.filter(date__in=days, officers__team__street=street)
                               .values_list("officers", "date").annotate(n=Count("id")).order_by()):
        team.add_load(officer_id, day, n)
    order = sorted(subject_rows, key=lambda s: (due[s]["date"], REASON_PRIORITY[due[s]["reason"]], s))
    placed: list[tuple[Visit, list[int], list[int]]] = []
    unscheduled = []
    for subject_id in order:
        entry = due[subject_id]
        dept_ids, item_count = checklists[subject_id]
        spot = entry["reason"] == DueReason.GREEN_SPOT_CHECK
        seed = f"{plan.draw_seed}:{subject_id}" if spot else ""
        rng = random.Random(seed) if spot else None
        later = [d for d in days if d >= entry["date"]]
        earlier = [d for d in reversed(days) if d < entry["date"]]
        chosen = None
        for day in later + earlier:
            chosen = team.pick(sorted(dept_ids), day, rng)
            if chosen:
                break
        if not chosen:
            unscheduled.append({"subject": subject_id, "reason": entry["reason"]})
            continue
        placed.append((_Planned(subject_id, day, entry["reason"], entry["text"][:500], item_count, seed,
                                entry["reinspects"]), chosen, dept_ids))
    _route_orders([v for v, _o, _d in placed], subject_rows, {id(v): o for v, o, _d in placed})
    # Many rows without model instances (core.bulk): building 100,000 instances was most of the cost.
    now = timezone.now()
    creator = actor.pk if getattr(actor, "is_authenticated", False) else None
    fields = ("plan", "street", "subject", "date", "month", "kind", "one_off_reason", "reason", "reason_text",
              "item_count", "route_order", "draw_seed", "status", "reinspects", "created_by", "created_at")
    bulk.insert_rows(Visit, fields, [
        (plan.pk, street.pk, v.subject_id, v.date, plan.month, VisitKind.CONCENTRATED, "", v.reason, v.reason_text,
         v.item_count, v.route_order, v.draw_seed, VisitStatus.PLANNED, v.reinspects_id, creator, now)
        for v, _o, _d in placed])
    ids = dict(Visit.objects.filter(plan=plan, kind=VisitKind.CONCENTRATED).values_list("subject_id", "pk"))
    bulk.insert_rows(Visit.officers.through, ("visit", "officer"),
                     [(ids[v.subject_id], o) for v, officers, _d in placed for o in officers])
    bulk.insert_rows(Visit.departments.through, ("visit", "department"),
                     [(ids[v.subject_id], d) for v, _o, depts in placed for d in depts])
    return unscheduled


def _route_orders(visits, subject_rows, teams):
    """Per day and lead officer, the visits in nearest-neighbour order."""
    groups = defaultdict(list)
    for v in visits:
        groups[(v.date, teams[id(v)][0])].append(v)
    for members in groups.values():
        members.sort(key=lambda v: v.subject_id)
        points = [(subject_rows[v.subject_id].lat, subject_rows[v.subject_id].lng) for v in members]
        for n, i in enumerate(routing.nearest_neighbour_order(points), start=1):
            members[i].route_order = n


def _reroute_day(visit_day: date, street: Area, lead_officer_id: int | None):
    """Recompute the route order of one lead officer's day after a visit was added or moved."""
    if lead_officer_id is None:
        return
    members = [v for v in Visit.objects.filter(street=street, date=visit_day).select_related("subject")
               .prefetch_related("officers").order_by("subject_id")
               if v.officers.all() and min(o.pk for o in v.officers.all()) == lead_officer_id]
    points = [(v.subject.lat, v.subject.lng) for v in members]
    for n, i in enumerate(routing.nearest_neighbour_order(points), start=1):
        if members[i].route_order != n:
            Visit.objects.filter(pk=members[i].pk).update(route_order=n)


# --- editing the plan ----------------------------------------------------------------------------

def _locked_plan(actor, plan_id) -> InspectionPlan:
    plan = selectors.get_plan_for(actor, plan_id) if actor is not None else InspectionPlan.objects.get(pk=plan_id)
    plan = InspectionPlan.objects.select_for_update(of=("self",)).select_related("street").get(pk=plan.pk)
    require_planner(actor, plan.street)
    return plan


def add_visit(actor, plan_id, *, subject, date, officers, kind=VisitKind.CONCENTRATED, one_off_reason="",
              reason_text="") -> Visit:
    """The leader adds a visit to the plan. A second concentrated visit of the subject this month is a
    409 (checked here, and by the database's constraint when two planners race)."""
    with transaction.atomic():
        plan = _locked_plan(actor, plan_id)
        visit = _new_visit(actor, plan.street, plan=plan, subject=subject, day=date, officers=officers, kind=kind,
                           one_off_reason=one_off_reason, reason_text=reason_text, first=plan.month)
        _amended(actor, plan, f"add visit {visit.pk}")
    return visit


def create_visit(actor, *, street, subject, date, officers, kind=VisitKind.ONE_OFF, one_off_reason="",
                 reason_text="") -> Visit:
    """A visit outside the monthly plan: a one-off (complaint, event, emergency) or a concentrated
    visit of its own (the one-visit rule holds all the same)."""
    street_area = street_for(actor, street)
    require_planner(actor, street_area)
    with transaction.atomic():
        return _new_visit(actor, street_area, plan=None, subject=subject, day=date, officers=officers, kind=kind,
                          one_off_reason=one_off_reason, reason_text=reason_text, first=None)


def _new_visit(actor, street, *, plan, subject, day, officers, kind, one_off_reason, reason_text, first) -> Visit:
    errors = {}
    if kind not in VisitKind.values:
        errors["kind"] = [_("必须是 %(v)s 之一。") % {"v": ", ".join(VisitKind.values)}]
    elif kind == VisitKind.ONE_OFF and one_off_reason not in (OneOffReason.COMPLAINT, OneOffReason.EVENT,
                                                               OneOffReason.EMERGENCY):
        errors["one_off_reason"] = [_("专项检查须说明原因：投诉、事件或突发情况。")]
    elif kind == VisitKind.CONCENTRATED and one_off_reason:
        errors["one_off_reason"] = [_("集中检查不填专项原因。")]
    if errors:
        raise ValidationFailed(fields=errors)
    subject_row = _subject_in_street(actor, street, subject)
    day = _clean_day(day, first)
    officer_rows = _clean_officers(street, officers)
    month = day.replace(day=1)
    if kind == VisitKind.CONCENTRATED and _already_planned(subject_row.pk, month):
        raise Conflict(_("该管理对象本月已有一次集中检查（一月一次）。"), code="one_visit_per_month")
    _check_cap(officer_rows, day)
    dept_ids, item_count = _checklist_of(actor, subject_row)
    visit = Visit(plan=plan, street=street, subject=subject_row, date=day, month=month, kind=kind,
                  one_off_reason=one_off_reason if kind == VisitKind.ONE_OFF else "",
                  reason=DueReason.ONE_OFF if kind == VisitKind.ONE_OFF else DueReason.MANUAL,
                  reason_text=(reason_text or "")[:500], item_count=item_count,
                  created_by=actor if getattr(actor, "is_authenticated", False) else None)
    _insert_visit(visit, officer_rows, dept_ids)
    _reroute_day(day, street, officer_rows[0].pk)
    audit.record(actor, "inspections.visit_added", visit, changes={k: [None, v] for k, v in _visit_changes(visit).items()})
    return visit


def _plan_visit(actor, plan_id, visit_id) -> tuple[InspectionPlan, Visit]:
    plan = _locked_plan(actor, plan_id)
    visit = Visit.objects.select_for_update().filter(pk=_int_id_or_404(visit_id), plan=plan).first()
    if visit is None:
        raise NotFound(_("检查不存在。"))
    if visit.status != VisitStatus.PLANNED or visit.findings.exists():
        raise Conflict(_("检查已开始或已完成，不能再调整。"), code="visit_started")
    return plan, visit


def _int_id_or_404(value) -> int:
    try:
        return _int_id(value, "id")
    except ValidationFailed:
        raise NotFound(_("检查不存在。"))


def remove_visit(actor, plan_id, visit_id):
    with transaction.atomic():
        plan, visit = _plan_visit(actor, plan_id, visit_id)
        before = _visit_changes(visit)
        audit.record(actor, "inspections.visit_removed", visit, changes={k: [v, None] for k, v in before.items()})
        visit.officers.clear()
        visit.departments.clear()
        visit.delete()
        _amended(actor, plan, f"remove visit {visit_id}")


def move_visit(actor, plan_id, visit_id, *, date=None, officers=None) -> Visit:
    """Move a planned visit to another day and/or other officers (cap and street checked again)."""
    if date is None and officers is None:
        raise ValidationFailed(fields={"date": [_("请指定新的日期或检查人员。")]})
    with transaction.atomic():
        plan, visit = _plan_visit(actor, plan_id, visit_id)
        before = _visit_changes(visit)
        day = _clean_day(date, plan.month) if date is not None else visit.date
        officer_rows = (_clean_officers(plan.street, officers) if officers is not None
                        else list(visit.officers.select_for_update().order_by("pk")))
        _check_cap(officer_rows, day, exclude_visit=visit)
        old_lead = min((o.pk for o in visit.officers.all()), default=None)
        old_day = visit.date
        visit.date = day
        visit.save(update_fields=["date"])
        visit.officers.set(officer_rows)
        changes = audit.diff(before, _visit_changes(visit))
        if changes:
            audit.record(actor, "inspections.visit_moved", visit, changes=changes)
            _amended(actor, plan, f"move visit {visit.pk}")
        _reroute_day(old_day, plan.street, old_lead)
        _reroute_day(day, plan.street, officer_rows[0].pk)
        visit.refresh_from_db()
    return visit


def approve_plan(actor, plan_id) -> InspectionPlan:
    with transaction.atomic():
        plan = selectors.get_plan_for(actor, plan_id) if actor is not None else InspectionPlan.objects.get(pk=plan_id)
        plan = InspectionPlan.objects.select_for_update(of=("self",)).select_related("street").get(pk=plan.pk)
        require_leader(actor, plan.street)
        if plan.status == PlanStatus.APPROVED:
            raise Conflict(_("计划已批准。"), code="already_approved")
        plan.status, plan.approved_at = PlanStatus.APPROVED, timezone.now()
        plan.approved_by = actor if getattr(actor, "is_authenticated", False) else None
        plan.save(update_fields=["status", "approved_at", "approved_by"])
        audit.record(actor, "inspections.plan_approved", plan, changes={"status": [PlanStatus.DRAFT, PlanStatus.APPROVED]})
    return plan


# --- the visit ------------------------------------------------------------------------------------

def _visit_for_writing(actor, visit_id) -> Visit:
    visit = selectors.get_visit_for(actor, visit_id) if actor is not None else Visit.objects.get(pk=visit_id)
    visit = Visit.objects.select_for_update(of=("self",)).select_related("street", "subject", "plan").get(pk=visit.pk)
    if actor is not None:
        on_team = visit.officers.filter(user=actor).exists()
        leader = has_role(actor, TEAM_LEADER) and grid_selectors.user_covers_area(actor, visit.street)
        if not (on_team or leader):
            raise Forbidden(_("只有本次检查的执法人员或本街道队长可以记录检查。"))
    if visit.plan_id and visit.plan.status != PlanStatus.APPROVED:
        raise Conflict(_("计划尚未批准，不能开始检查。"), code="plan_not_approved")
    return visit


def comply_by_days(weight: int) -> int:
    rows = list(ComplyByDefault.objects.order_by("-min_weight").values_list("min_weight", "days"))
    for min_weight, days in rows or DEFAULT_COMPLY_BY:
        if weight >= min_weight:
            return days
    return DEFAULT_COMPLY_BY[-1][1]


def _clean_client_id(value, field="client_id") -> str:
    value = "" if value is None else str(value).strip()
    if not value or len(value) > 64 or not all(c.isalnum() or c in "-_" for c in value):
        raise ValidationFailed(fields={field: [_("客户端编号必填：1–64 个字母、数字、- 或 _。")]})
    return value


def record_finding(actor, visit_id, *, client_id, item, result, note="", rectification="", comply_by=None,
                   correction_reason="") -> tuple[Finding, bool]:
    """Record one checklist item (idempotent by `client_id`: a resend returns the first record, created
    False). An item already recorded is corrected by a new, linked finding; after the visit is complete
    the correction needs a reason. A failed item posts `inspection_finding`; a deadline
    `rectification_open`; the corrected finding's facts are withdrawn."""
    client_id = _clean_client_id(client_id)
    existing = Finding.objects.filter(client_id=client_id).first()
    if existing is not None:
        if existing.visit_id != _int_id_or_404(visit_id):
            raise Conflict(_("该客户端编号已用于另一次检查。"))
        if actor is not None:
            selectors.get_visit_for(actor, visit_id)  # a resend by someone who may not see it: 404
        return existing, False
    errors = {}
    if result not in Result.values:
        errors["result"] = [_("必须是 pass、fail 或 na。")]
    note = "" if note is None else str(note).strip()
    if len(note) > 1000:
        errors["note"] = [_("最多 1000 个字符。")]
    rectification = rectification or ""
    if result == Result.FAIL and rectification not in (RectificationKind.ON_THE_SPOT, RectificationKind.DEADLINE):
        errors["rectification"] = [_("不合格项须选择当场整改或限期整改。")]
    if result in (Result.PASS, Result.NA) and rectification:
        errors["rectification"] = [_("合格或不适用的条目无需整改。")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        visit = _visit_for_writing(actor, visit_id)
        items = {i["code"]: i for i in selectors.visit_items(actor if actor is not None else _system_user(), visit)}
        entry = items.get(str(item or ""))
        if entry is None:
            raise ValidationFailed(fields={"item": [_("本次检查清单中没有该条目。")]})
        previous = (Finding.objects.select_for_update(of=("self",)).filter(visit=visit, item_code=entry["code"],
                                                                 corrected_by__isnull=True).first())
        reason = (correction_reason or "").strip()[:500]
        if previous is not None and not reason:
            if visit.status == VisitStatus.COMPLETED:
                raise ValidationFailed(fields={"correction_reason": [_("更正已完成检查的记录须说明原因。")]})
            reason = _("检查中更正")
        if previous is None and visit.status == VisitStatus.COMPLETED:
            raise Conflict(_("检查已完成：只能更正已有记录。"), code="visit_completed")
        due = None
        if rectification == RectificationKind.DEADLINE:
            default = visit.date + timedelta(days=comply_by_days(entry["weight"]))
            due = _clean_comply_by(comply_by, visit.date) if comply_by not in (None, "") else default
        dept = Department.objects.filter(code=entry["department"]).first()
        finding = Finding(
            visit=visit, client_id=client_id, item_code=entry["code"], item_text=entry["text"][:500],
            matter_code=entry["matter_code"][:64], department=dept, weight=entry["weight"], result=result, note=note,
            rectification=rectification, comply_by=due,
            rectification_status=(RectificationStatus.OPEN if rectification == RectificationKind.DEADLINE
                                  else RectificationStatus.DONE if rectification else ""),
            rectified_at=timezone.now() if rectification == RectificationKind.ON_THE_SPOT else None,
            corrects=previous, correction_reason=reason if previous else "",
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
        try:
            with transaction.atomic():
                finding.save()
        except IntegrityError:  # the same client id, sent twice at once: the first one stands
            return Finding.objects.get(client_id=client_id), False
        audit.record(actor, "inspections.finding_recorded", finding, changes={
            "item": [None, finding.item_code], "result": [None, result], "rectification": [None, rectification],
            "comply_by": [None, due], "corrects": [None, previous.pk if previous else None]})
        if previous is not None:
            credit_facts.withdraw_fact(source_app=SOURCE_APP, source_model=FINDING_MODEL, source_pk=previous.pk,
                                       reason=_("检查记录已更正：%(r)s") % {"r": reason}, actor=actor)
        _post_finding_facts(actor, finding, visit)
    return finding, True


def _clean_comply_by(value, visit_day: date) -> date:
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(fields={"comply_by": [_("日期格式应为 YYYY-MM-DD。")]})
    if not visit_day < day <= visit_day + timedelta(days=365):
        raise ValidationFailed(fields={"comply_by": [_("整改期限须在检查日之后一年以内。")]})
    return day


def _post_finding_facts(actor, finding: Finding, visit: Visit):
    if finding.result != Result.FAIL:
        return
    ref = {"source_app": SOURCE_APP, "source_model": FINDING_MODEL, "source_pk": finding.pk}
    text = f"{finding.item_code} {finding.item_text}"[:255]
    credit_facts.post_fact(visit.subject_id, FactKind.INSPECTION_FINDING, points=finding.weight,
                           source_text=text, actor=actor, **ref)
    if finding.rectification == RectificationKind.DEADLINE:
        credit_facts.post_fact(visit.subject_id, FactKind.RECTIFICATION_OPEN, source_text=text, actor=actor, **ref)


def _decode_image(data_url, field, max_bytes) -> tuple[bytes, str, str]:
    """A data URL (or bare base64) of a PNG/JPEG/WebP image, checked by content (Pillow)."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(data_url, str) or not data_url:
        raise ValidationFailed(fields={field: [_("请提供图片（data URL）。")]})
    raw = data_url.split(",", 1)[1] if data_url.startswith("data:") and "," in data_url else data_url
    if len(raw) > max_bytes * 4 // 3 + 8:
        raise ValidationFailed(fields={field: [_("图片过大。")]})
    try:
        content = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(fields={field: [_("图片编码无效。")]})
    try:
        with Image.open(io.BytesIO(content), formats=["PNG", "JPEG", "WEBP"]) as img:
            kind = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(fields={field: [_("不是有效的 PNG、JPEG 或 WebP 图片。")]})
    ext = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}[kind]
    return content, f"image/{'jpeg' if kind == 'JPEG' else kind.lower()}", ext


def add_photo(actor, visit_id, *, client_id, finding, image) -> tuple[FindingPhoto, bool]:
    """A photo of a finding (by the finding's client id), idempotent by the photo's own client id."""
    client_id = _clean_client_id(client_id)
    finding_client = _clean_client_id(finding, "finding")
    existing = FindingPhoto.objects.filter(client_id=client_id).select_related("finding").first()
    if existing is not None:
        if existing.finding.client_id != finding_client:
            raise Conflict(_("该客户端编号已用于另一张照片。"))
        return existing, False
    content, content_type, ext = _decode_image(image, "image", MAX_PHOTO_BYTES)
    with transaction.atomic():
        visit = _visit_for_writing(actor, visit_id)
        row = Finding.objects.filter(client_id=finding_client, visit=visit).first()
        if row is None:
            raise ValidationFailed(fields={"finding": [_("本次检查没有该条记录。")]})
        if row.photos.count() >= 12:
            raise ValidationFailed(fields={"image": [_("每条记录最多 12 张照片。")]})
        photo = FindingPhoto(finding=row, client_id=client_id, content_type=content_type,
                             sha256=hashlib.sha256(content).hexdigest(),
                             uploaded_by=actor if getattr(actor, "is_authenticated", False) else None)
        photo.image.save(f"{client_id}.{ext}", ContentFile(content), save=False)
        try:
            with transaction.atomic():
                photo.save()
                audit.record(actor, "inspections.photo_added", photo, changes={"finding": [None, row.pk],
                                                                                "sha256": [None, photo.sha256]})
        except IntegrityError:
            photo.image.delete(save=False)  # nothing half-written: no file without its row
            return FindingPhoto.objects.get(client_id=client_id), False
        except BaseException:
            photo.image.delete(save=False)
            raise
    return photo, True


def complete_visit(actor, visit_id, *, representative_name="", signature=None, refused=False,
                   client_id=None) -> tuple[Visit, bool]:
    """Close the visit: the representative's name and signature (a PNG drawn on the phone), or that they
    refused. A completed visit is a legal record from then on. Sending it again (same client id) returns
    it unchanged."""
    client_id = _clean_client_id(client_id)
    done = Visit.objects.filter(signature_client_id=client_id).first()
    if done is not None:
        if done.pk != _int_id_or_404(visit_id):
            raise Conflict(_("该客户端编号已用于另一次检查。"))
        return done, False
    name = "" if representative_name is None else str(representative_name).strip()
    errors = {}
    if not isinstance(refused, bool):
        errors["refused"] = [_("必须是 true 或 false。")]
    elif refused and signature:
        errors["signature"] = [_("拒绝签字时不应附签名。")]
    elif not refused and (not name or not signature):
        errors["representative_name" if not name else "signature"] = [_("请填写对象代表姓名并签名，或记录拒绝签字。")]
    if len(name) > 50:
        errors["representative_name"] = [_("最多 50 个字符。")]
    if errors:
        raise ValidationFailed(fields=errors)
    content = _decode_image(signature, "signature", MAX_SIGNATURE_BYTES) if signature else None
    if content and content[2] != "png":
        raise ValidationFailed(fields={"signature": [_("签名须为 PNG 图片。")]})
    with transaction.atomic():
        visit = _visit_for_writing(actor, visit_id)
        if visit.status == VisitStatus.COMPLETED:
            raise Conflict(_("检查已完成。"), code="visit_completed")
        if not visit.findings.exists():
            raise ValidationFailed(fields={"findings": [_("请先记录检查条目。")]})
        visit.status, visit.completed_at = VisitStatus.COMPLETED, timezone.now()
        visit.completed_by = actor if getattr(actor, "is_authenticated", False) else None
        visit.representative_name, visit.representative_refused = name, refused
        visit.signature_client_id = client_id
        if content:
            visit.signature.save(f"{client_id}.png", ContentFile(content[0]), save=False)
        visit.save()
        audit.record(actor, "inspections.visit_completed", visit, changes={
            "status": [VisitStatus.PLANNED, VisitStatus.COMPLETED], "representative_refused": [None, refused]})
    return visit, True


def reinspect(actor, visit_id, *, finding, rectified, note="") -> Reinspection:
    """The re-inspection of a deadline rectification. Done: the finding's open and overdue facts are
    withdrawn, and past the comply-by date `rectification_late` is posted."""
    if not isinstance(rectified, bool):
        raise ValidationFailed(fields={"rectified": [_("必须是 true 或 false。")]})
    with transaction.atomic():
        visit = _visit_for_writing(actor, visit_id)
        row = (Finding.objects.select_for_update(of=("self",)).filter(
            client_id=_clean_client_id(finding, "finding"), visit__subject_id=visit.subject_id,
            rectification=RectificationKind.DEADLINE, corrected_by__isnull=True).first())
        if row is None:
            raise ValidationFailed(fields={"finding": [_("该对象没有此限期整改记录。")]})
        if row.rectification_status == RectificationStatus.DONE:
            raise Conflict(_("该问题已整改完毕。"), code="already_rectified")
        rec = Reinspection.objects.create(finding=row, visit=visit, rectified=rectified, note=str(note or "")[:1000],
                                          recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit.record(actor, "inspections.reinspected", rec, changes={"finding": [None, row.pk],
                                                                     "rectified": [None, rectified]})
        if rectified:
            now = timezone.now()
            before = row.rectification_status
            row.rectification_status, row.rectified_at = RectificationStatus.DONE, now
            row.save(update_fields=["rectification_status", "rectified_at"])
            audit.record(actor, "inspections.rectified", row, changes={"rectification_status": [before, "done"]})
            ref = {"source_app": SOURCE_APP, "source_model": FINDING_MODEL, "source_pk": row.pk}
            for kind in (FactKind.RECTIFICATION_OPEN, FactKind.RECTIFICATION_OVERDUE):
                credit_facts.withdraw_fact(kind=kind, reason=_("复查确认已整改"), actor=actor, **ref)
            if timezone.localdate(now) > row.comply_by:
                credit_facts.post_fact(visit.subject_id, FactKind.RECTIFICATION_LATE, actor=actor,
                                       source_text=row.item_text[:255], **ref)
    return rec


def refer_to_case(actor, visit_id, *, finding, note="") -> Referral:
    """Record that a failed finding needs a penalty: the casework app opens the case from it."""
    with transaction.atomic():
        visit = _visit_for_writing(actor, visit_id)
        row = Finding.objects.filter(client_id=_clean_client_id(finding, "finding"), visit=visit,
                                     result=Result.FAIL, corrected_by__isnull=True).first()
        if row is None:
            raise ValidationFailed(fields={"finding": [_("本次检查没有该不合格记录。")]})
        if Referral.objects.filter(finding=row).exists():
            raise Conflict(_("该问题已移送立案。"), code="already_referred")
        referral = Referral.objects.create(finding=row, note=str(note or "")[:1000],
                                           referred_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit.record(actor, "inspections.referred_to_case", referral, changes={"finding": [None, row.pk]})
    return referral


def take_up_referral(actor, *, finding: Finding) -> Referral:
    """The casework app filed the case for this failed finding: its referral is marked taken up (recorded
    now, already taken up, when nobody had referred it). Runs inside the caller's filing transaction;
    the case points at the finding (cases sits above inspections), so nothing here names the case."""
    now = timezone.now()
    referral = Referral.objects.select_for_update().filter(finding=finding).first()
    if referral is None:
        referral = Referral.objects.create(finding=finding, consumed_at=now,
                                           referred_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit.record(actor, "inspections.referred_to_case", referral, changes={"finding": [None, finding.pk]})
        before = None
    else:
        before, referral.consumed_at = referral.consumed_at, now
        referral.save(update_fields=["consumed_at"])
    audit.record(actor, "inspections.referral_taken_up", referral,
                 changes={"consumed_at": [before.isoformat() if before else None, now.isoformat()]})
    return referral


# --- the overdue sweep -------------------------------------------------------------------------------

SEVERITY_BY_WEIGHT = ((5, "red"), (3, "orange"), (2, "yellow"), (0, "blue"))


def severity_for(weight: int) -> str:
    return next(s for w, s in SEVERITY_BY_WEIGHT if weight >= w)


def sweep_overdue(today: date | None = None) -> int:
    """Mark open deadline rectifications past their comply-by date overdue: post `rectification_overdue`
    and send `rectification_overdue` (the command center raises an event). Once per finding: the
    conditional UPDATE of `overdue_raised_at` lets one sweeper through, however many run. Returns how
    many were raised."""
    today = today or timezone.localdate()
    ids = list(Finding.objects.filter(rectification_status=RectificationStatus.OPEN, comply_by__lt=today,
                                      overdue_raised_at__isnull=True, corrected_by__isnull=True)
               .values_list("pk", flat=True)[:500])
    raised = 0
    for finding_id in ids:
        with transaction.atomic():
            won = Finding.objects.filter(pk=finding_id, overdue_raised_at__isnull=True,
                                         rectification_status=RectificationStatus.OPEN).update(
                overdue_raised_at=timezone.now(), rectification_status=RectificationStatus.OVERDUE)
            if not won:
                continue
            row = Finding.objects.select_related("visit__subject").get(pk=finding_id)
            subject = row.visit.subject
            audit.record(None, "inspections.rectification_overdue", row, changes={
                "rectification_status": [RectificationStatus.OPEN, RectificationStatus.OVERDUE]})
            credit_facts.post_fact(subject.pk, FactKind.RECTIFICATION_OVERDUE, source_app=SOURCE_APP,
                                   source_model=FINDING_MODEL, source_pk=row.pk, source_text=row.item_text[:255])
            problem = (ProblemType.objects.filter(matter_code=row.matter_code, active=True).order_by("code")
                       .values_list("code", flat=True).first()) if row.matter_code else None
            signals.rectification_overdue.send(
                sender=Finding, finding_id=row.pk, subject_id=subject.pk, lat=subject.lat, lng=subject.lng,
                problem_type=problem or "", severity=severity_for(row.weight),
                description=_("限期整改逾期：%(subject)s，%(item)s（期限 %(day)s）") % {
                    "subject": subject.name, "item": row.item_text[:200], "day": row.comply_by.isoformat()},
                external_id=f"inspection-finding-{row.pk}")
            raised += 1
    return raised
