"""Drafting the monthly plan: who is due (effort rules, rectifications to re-inspect, campaign scenarios,
manual additions) → one joint visit per subject → days and teams under the daily cap → route order."""
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, bulk
from core.exceptions import Conflict, ValidationFailed
from credit import effort
from enforcement import selectors as catalog
from enforcement.choices import ScenarioStatus
from enforcement.models import Scenario
from grids import selectors as grid_selectors
from grids.choices import SubjectStatus
from grids.models import Area, Department, Officer, Subject
from inspections import routing, selectors
from inspections.choices import (
    DueReason, RectificationKind, RectificationStatus, UnscheduledWhy, VisitKind, VisitStatus,
)
from inspections.models import Finding, InspectionPlan, Visit
from inspections.services.common import (
    REASON_PRIORITY, _subject_in_street, _system_user, daily_cap, month_last, plan_month,
    previous_month, require_planner, street_for, working_days,
)


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
    for subject_id, reason, text in _carried_over(street, first):
        add(subject_id, reason, text, first)
    return out


def _carried_over(street, first):
    """The previous month's due subjects no officer had room for (its plan's `unscheduled`) and that
    nobody placed since: they come first in this month's draft, with their reason."""
    prev = (InspectionPlan.objects.filter(street=street, month=previous_month(first))
            .values_list("month", "unscheduled").first())
    entries = [e for e in (prev[1] if prev else None) or () if isinstance(e, dict) and e.get("subject")]
    if not entries:
        return []
    ids = [e["subject"] for e in entries]
    placed = set(Visit.objects.filter(month=prev[0], kind=VisitKind.CONCENTRATED, street=street)
                 .values_list("subject_id", flat=True))
    active = set()
    for start in range(0, len(ids), selectors.IN_CHUNK):
        active.update(Subject.objects.filter(pk__in=ids[start:start + selectors.IN_CHUNK],
                                             status=SubjectStatus.ACTIVE).values_list("pk", flat=True))
    return [(e["subject"], e.get("reason") if e.get("reason") in REASON_PRIORITY else DueReason.MANUAL,
             _("上月（%(month)s）人员已满未能排入，顺延：%(text)s") % {"month": f"{prev[0]:%Y-%m}",
                                                                 "text": str(e.get("text", ""))[:200]})
            for e in entries if e["subject"] in active and e["subject"] not in placed]


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
            unscheduled.append({"subject": subject_id, "reason": entry["reason"], "text": entry["text"][:200],
                                "why": UnscheduledWhy.CAP if team.all_ids else UnscheduledWhy.NO_OFFICERS})
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
