"""Test support for the figures: moments in Asia/Shanghai, events whose times are set by hand, deadlines met,
small fixed sets of inspections and cases whose figures are computed by hand in the tests."""
from datetime import date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from command_center import testing as cc_testing
from command_center.models import Deadline, Event
from cases.models import Appeal, Case, CaseMatter, CaseRecord, QualityReview
from credit.testing import build_subjects
from enforcement.models import CatalogVersion, Matter
from inspections.models import Finding, Visit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0, ss=0):
    """A moment in Asia/Shanghai."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def event_maker(report):
    """event_at(created, accepted=+s, arrived=+s, resolved=+s, point=…, **fields) → an event whose times are
    set by hand (seconds after `created`); its deadlines are moved with it (due = created + their minutes)."""

    def make(created, *, accepted=None, arrived=None, resolved=None, point=cc_testing.S1_POINT, satisfaction=None,
             **fields):
        event = report(point=point, **{k: v for k, v in fields.items() if k in ("problem_type", "source")})
        shift = created - event.created_at
        plus = (lambda s: None if s is None else created + timedelta(seconds=s))
        Event.objects.filter(pk=event.pk).update(
            created_at=created, accepted_at=plus(accepted), arrived_at=plus(arrived), resolved_at=plus(resolved),
            satisfaction=satisfaction, **{k: v for k, v in fields.items() if k in ("status", "escalation_level")})
        for d in Deadline.objects.filter(event=event):
            Deadline.objects.filter(pk=d.pk).update(due_at=d.due_at + shift)
        event.refresh_from_db()
        return event

    return make


def meet(event, stage, *, after_s=None, late=False):
    """Mark a deadline met `after_s` seconds after the event's intake (or breached when `late`)."""
    d = Deadline.objects.get(event=event, stage=stage)
    when = event.created_at + timedelta(seconds=after_s)
    if late:
        Deadline.objects.filter(pk=d.pk).update(breached_at=d.due_at, met_at=when)
    else:
        Deadline.objects.filter(pk=d.pk).update(met_at=when)
    d.refresh_from_db()
    return d


_finding_ids = count(1)


def visit_at(district, subject, day, *, street="S1", kind="concentrated", status="completed", departments=()):
    visit = Visit.objects.create(street=district[street], subject=subject, date=day, month=day.replace(day=1), kind=kind,
                                 one_off_reason="complaint" if kind == "one_off" else "", reason="manual", status=status)
    visit.departments.set(departments)
    return visit


def _finding(visit, result="fail", rectification="", status="", **extra):
    return Finding.objects.create(visit=visit, client_id=f"f-{next(_finding_ids)}", item_code="F1", item_text="是否占道经营",
                                  result=result, rectification=rectification, rectification_status=status, **extra)


def build_inspections(district, categories, departments):
    """S1: v1 a joint visit for two departments (a problem put right on the spot, one by its deadline, one
    overdue, one corrected into a pass, one pass); v2 a joint visit of no department on the month's last day
    (one problem, its deadline still open); v3 a one-off visit. S2: v4 a joint visit for one department.
    Not counted: a visit still planned, and one the day before the period."""
    s = build_subjects(district, categories)
    zhzf, scjg = departments["ZHZF"], departments["SCJG"]
    v1 = visit_at(district, s["s1"], date(2026, 11, 3), departments=(zhzf, scjg))
    _finding(v1, rectification="on_the_spot", status="done", rectified_at=at(2026, 11, 3, 10))
    _finding(v1, rectification="deadline", status="done", comply_by=date(2026, 11, 10), rectified_at=at(2026, 11, 9))
    _finding(v1, rectification="deadline", status="overdue", comply_by=date(2026, 11, 10),
             overdue_raised_at=at(2026, 11, 11, 0, 5))
    wrong = _finding(v1, rectification="deadline", status="open", comply_by=date(2026, 12, 1))
    _finding(v1, result="pass", corrects=wrong, correction_reason="误判")
    _finding(v1, result="pass")
    v2 = visit_at(district, s["s1b"], date(2026, 11, 30))
    _finding(v2, rectification="deadline", status="open", comply_by=date(2026, 12, 15))
    visit_at(district, s["s1"], date(2026, 11, 20), kind="one_off", departments=(zhzf,))
    visit_at(district, s["s2"], date(2026, 11, 15), street="S2", departments=(scjg,))
    visit_at(district, s["site"], date(2026, 11, 10), status="planned")
    visit_at(district, s["site"], date(2026, 10, 31))
    return s


_case_numbers = count(1)


def build_cases(district, categories, departments, users):
    """(Needs a published catalog.) S1: c1 filed, decided, closed on time in November (a penalty and a first-violation no-penalty; legal
    review agreed; an appeal upheld; reviewed 80/100); c2 filed in August, decided late and closed in November
    (a reduced fine; legal review returned on the 2nd at 23:59:59, agreed in October; an appeal pending;
    reviewed 45/60); c4 filed one second before the period. S2: c3 filed the period's last second; c5 decided
    exactly at its due time and closed in November (a mediated no-penalty)."""
    s = build_subjects(district, categories)
    version = CatalogVersion.objects.order_by("-pk").first()
    m1, m2 = Matter.objects.order_by("pk")[:2]
    bureau = users["bureau"]

    def case(street, subject, filed, due, decided=None, closed=None):
        return Case.objects.create(number=f"T-{next(_case_numbers)}", street=district[street], party_kind="business",
                                   subject=s[subject], facts="占道经营", facts_on=date(2026, 7, 1), catalog_version=version,
                                   filed_at=filed, decision_due_at=due, decided_at=decided, closed_at=closed,
                                   status="closed" if closed else "filed")

    def matter(c, m, outcome, ground=""):
        CaseMatter.objects.create(case=c, matter=m, department=departments["ZHZF"], outcome=outcome, lenient_ground=ground)

    def legal(c, when, opinion):
        CaseRecord.objects.create(case=c, step="legal_review", actor=bureau, actor_label="法制员", at=when,
                                  data={"opinion": opinion})

    def appeal(c, when, result):
        Appeal.objects.create(case=c, kind="reconsideration", grounds="不服", lodged_at=when, recorded_by=bureau,
                              due_at=at(2027, 1, 30), result=result)

    def review(c, when, total, max_total):
        QualityReview.objects.create(case=c, reviewer=bureau, scores=[], total=total, max_total=max_total, reviewed_at=when)

    c1 = case("S1", "s1", at(2026, 11, 2, 10), at(2027, 1, 31), at(2026, 11, 20, 9), at(2026, 11, 25, 9))
    matter(c1, m1, "penalty")
    matter(c1, m2, "no_penalty", "first")
    legal(c1, at(2026, 11, 18, 9), "agree")
    appeal(c1, at(2026, 11, 26, 9), "upheld")
    review(c1, at(2026, 11, 27, 9), 80, 100)
    c2 = case("S1", "s1b", at(2026, 8, 1, 9), at(2026, 10, 30), at(2026, 11, 3, 9), at(2026, 11, 5, 9))
    matter(c2, m1, "reduced")
    legal(c2, at(2026, 11, 2, 23, 59, 59), "return")
    legal(c2, at(2026, 10, 31, 9), "agree")
    appeal(c2, at(2026, 11, 6, 9), "")
    review(c2, at(2026, 11, 28, 9), 45, 60)
    case("S2", "s2", at(2026, 11, 30, 23, 59, 59), at(2027, 2, 28))
    case("S1", "site", at(2026, 10, 31, 23, 59, 59), at(2027, 1, 29))
    c5 = case("S2", "s2", at(2026, 9, 1, 9), at(2026, 11, 10, 12), at(2026, 11, 10, 12), at(2026, 11, 12, 9))
    matter(c5, m1, "no_penalty", "mediated")
    return s


def staff_records(users, teams, departments, officers):
    """Officers on the records of build_inspections / build_cases (by creation order), for the figures by
    officer and team: 张三 and 王五 (both S1's team) inspected v1 together, 张三 v2, 王五 v3, 李四 (S2's team)
    v4; c1 was handled by 张三 and 王五, c2 by 张三 and 李四, c3 and c5 by 李四, c4 by nobody."""
    from core import roles
    from grids import accounts
    from grids.models import Officer

    user, _ = accounts.add_user(None, username="officer_s1b", role=roles.OFFICER, area_codes=["S1"], password="x-Pass-123")
    wang = Officer.objects.create(user=user, name="王五", badge_no="B003", team=teams["S1"],
                                  home_department=departments["ZHZF"], phone="13800003333")
    zhang, li = officers["s1"], officers["s2"]
    for visit, people in zip(Visit.objects.order_by("pk")[:4], ((zhang, wang), (zhang,), (wang,), (li,))):
        visit.officers.set(people)
    for case, people in zip(Case.objects.order_by("pk")[:5], ((zhang, wang), (zhang, li), (li,), (), (li,))):
        case.handlers.set(people)
    return {"zhang": zhang, "wang": wang, "li": li}


def warning_in(district, grid_code, *, code="ZDJY", name="占道经营", count=5, status="raised"):
    """A hot-area warning on grid `grid_code` raised an hour ago (as analytics.services would have)."""
    from django.utils import timezone

    from analytics.models import HotspotWarning
    from grids import selectors as grid_selectors

    grid, now = district[grid_code], timezone.now()
    return HotspotWarning.objects.create(
        grid=grid, street=grid_selectors.street_of(grid), path=grid.path, problem_type_code=code, problem_type_name=name,
        window_start=now - timedelta(days=7), window_end=now - timedelta(hours=1), count=count, baseline=0.5,
        p_value=0.00001, peak_count=count, raised_at=now - timedelta(hours=1), status=status)
