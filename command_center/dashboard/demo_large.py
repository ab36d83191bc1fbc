"""`load_demo --large`, the dashboard's part: a district-sized shift to measure the dashboard against.

Tops the demo up to 20,000 subjects, 500 officers and 2,000 open events, with bulk inserts (thousands
of intake calls would take many minutes; the benchmark needs the rows, not the intake path, which has
its own tests and benchmark). Each event is routed the way intake routes it (one routing decision per
problem type and street, cached), gets its deadlines from the SLA policy of its street and severity and
its "create" timeline line, so the dashboard, the figures and the SLA sweep treat them like any other.
Reports are spread over the last 40 minutes, so some are overdue, some due soon, some far off.
Without --large it does nothing.
"""
import random
from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from command_center import selectors
from command_center.choices import Action, AssignmentStatus, EscalationTarget, Source, Status
from command_center.models import Assignment, Deadline, Event, TimelineEntry
from core import audit
from core.exceptions import DomainError
from core.roles import OFFICER
from grids import spatial
from grids.choices import AreaKind, DutyStatus
from grids.models import Area, AreaMembership, Officer, Subject, Team

SUBJECTS = 20_000
OFFICERS = 500
OPEN_EVENTS = 2_000
SEED_OFFSET = 5  # another random stream than the other demo parts
SOURCES = [Source.CITIZEN, Source.GRID_WORKER, Source.COLLECTOR, Source.SENSOR, Source.AI_CAMERA, Source.HOTLINE_12345,
           Source.DRONE]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def _write(stdout, text):
    if stdout is not None:
        stdout.write(text)


def _top_up_subjects(rng) -> int:
    """Copies of existing subjects a few metres away (same grid, same category), up to SUBJECTS."""
    have = Subject.objects.count()
    missing = SUBJECTS - have
    if missing <= 0 or not have:
        return 0
    sources = list(Subject.objects.order_by("id").values("name", "category_id", "address", "lat", "lng", "grid_id")[:5000])
    rows = []
    for n in range(missing):
        s = rng.choice(sources)
        rows.append(Subject(
            name=f"{s['name'][:180]}（{n + 1}号分店）", category_id=s["category_id"], address=s["address"],
            lat=s["lat"] + rng.uniform(-0.00015, 0.00015), lng=s["lng"] + rng.uniform(-0.00015, 0.00015),
            grid_id=s["grid_id"], legal_representative=rng.choice(SURNAMES) + rng.choice(GIVEN),
            contact_phone=f"137{rng.randrange(10**8):08d}",
        ))
    Subject.objects.bulk_create(rows, batch_size=1000)
    return missing


def _top_up_officers(rng) -> int:
    """More officers in every team (users with the officer role, bound to their street), up to OFFICERS."""
    have = Officer.objects.count()
    missing = OFFICERS - have
    teams = list(Team.objects.select_related("street").defer("street__boundary").order_by("code"))
    if missing <= 0 or not teams:
        return 0
    template = Officer.objects.order_by("id").values("home_department_id").first()
    if template is None:
        return 0
    from grids.demo import DEMO_PASSWORD

    User = get_user_model()
    password = make_password(DEMO_PASSWORD)
    users = [User(username=f"large_officer_{n:04d}", first_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                  password=password) for n in range(missing)]
    User.objects.bulk_create(users, batch_size=500)
    users = list(User.objects.filter(username__startswith="large_officer_").order_by("username"))
    group, _ = Group.objects.get_or_create(name=OFFICER)
    User.groups.through.objects.bulk_create([User.groups.through(user_id=u.pk, group_id=group.pk) for u in users],
                                            batch_size=1000)
    AreaMembership.objects.bulk_create([AreaMembership(user=u, area=teams[i % len(teams)].street)
                                        for i, u in enumerate(users)], batch_size=1000)
    # Positions near events to come: around subjects of the team's street.
    points = {}
    for t in teams:
        points[t.pk] = list(Subject.objects.filter(grid__path__startswith=t.street.path).values_list("lat", "lng")[:300]) or [(30.3, 120.15)]
    now = timezone.now()
    duty = [DutyStatus.AVAILABLE] * 5 + [DutyStatus.EN_ROUTE, DutyStatus.ON_SCENE, DutyStatus.BUSY, DutyStatus.ON_BREAK,
                                         DutyStatus.OFF_DUTY]
    officers = []
    for i, u in enumerate(users):
        team = teams[i % len(teams)]
        lat, lng = rng.choice(points[team.pk])
        officers.append(Officer(
            user=u, name=u.first_name, badge_no=f"L{33000000 + i}", team=team,
            home_department_id=template["home_department_id"], rank=rng.choice([1, 1, 1, 2, 2, 3, 4]),
            phone=f"136{rng.randrange(10**8):08d}", duty_status=rng.choice(duty),
            last_lat=lat + rng.uniform(-0.002, 0.002), last_lng=lng + rng.uniform(-0.002, 0.002),
            last_heading=rng.uniform(0, 360), last_accuracy=10.0,
            last_position_at=now - timedelta(seconds=rng.randrange(10, 1800)),
        ))
    Officer.objects.bulk_create(officers, batch_size=500)
    return missing


def _routing(problem_type, lat, lng, now, cache, street_id):
    from enforcement import selectors as enforcement_selectors

    key = (problem_type.code, street_id)
    if key not in cache:
        try:
            cache[key] = enforcement_selectors.route(problem_type.code, lat, lng, on=now)
        except DomainError:
            cache[key] = None
    return cache[key]


def _open_events(rng) -> tuple[int, Counter]:
    from enforcement.models import ProblemType

    open_now = Event.objects.filter(status__in=[s.value for s in (Status.NEW, Status.DISPATCHED, Status.ACCEPTED,
                                                                  Status.ON_SITE)]).count()
    missing = OPEN_EVENTS - open_now
    problem_types = list(ProblemType.objects.filter(active=True).order_by("code"))
    if missing <= 0 or not problem_types:
        return 0, Counter()
    index = spatial.get_index()
    subjects = list(Subject.objects.order_by("?").values_list("id", "lat", "lng")[:missing * 2])
    areas = {}
    officers_by_team = {}
    for o in Officer.objects.exclude(duty_status=DutyStatus.OFF_DUTY).values("id", "team_id"):
        officers_by_team.setdefault(o["team_id"], []).append(o["id"])
    now = timezone.now()
    routes, policies = {}, {}
    events, plans = [], []
    for subject_id, lat, lng in subjects:
        if len(events) >= missing:
            break
        chain = index.chain(lat, lng)
        if not chain:
            continue
        refs = {ref.kind: ref for ref in chain}
        street_ref = refs.get(AreaKind.STREET)
        pt = rng.choice(problem_types)
        route = _routing(pt, lat, lng, now, routes, street_ref.id if street_ref else None)
        if route is None:
            continue
        severity = rng.choice([route.severity or "blue"] * 4 + ["red", "orange", "yellow", "blue"])
        created = now - timedelta(seconds=rng.randrange(0, 40 * 60))
        source = rng.choice(SOURCES)
        events.append(Event(
            source=source, problem_type_code=pt.code, problem_type_name=pt.name[:100], matter_code=route.matter_code or "",
            description=f"{pt.name}（大规模演示数据）", lat=lat, lng=lng, address="",
            area_id=chain[0].id, grid_id=refs[AreaKind.GRID].id if AreaKind.GRID in refs else None,
            street_id=street_ref.id if street_ref else None,
            team_id=route.team.id if route.team else None, department_id=route.department.id if route.department else None,
            delegated=bool(route.delegated), routing_reason=(route.reason or "")[:500],
            subject_id=subject_id if pt.about_subject else None, severity=severity, status=Status.NEW, created_at=created,
        ))
        plans.append(rng.random())
    Event.objects.bulk_create(events, batch_size=500)  # sets the ids (PostgreSQL, SQLite ≥ 3.35)

    deadlines, timeline, assignments, by_status = [], [], [], Counter()
    streets = Area.objects.defer("boundary").in_bulk({e.street_id for e in events if e.street_id})
    for event, roll in zip(events, plans):
        key = (event.street_id, event.severity)
        if key not in policies:
            policies[key] = selectors.policy_for(streets.get(event.street_id), event.severity)
        policy_name, stages = policies[key]
        # A third are on their way: dispatched (and some signed for) by an officer of their team.
        candidates = officers_by_team.get(event.team_id) or []
        done = {}
        if roll < 0.3 and candidates:
            officer_id = rng.choice(candidates)
            at = event.created_at + timedelta(seconds=rng.randrange(10, 50))
            accepted = at + timedelta(seconds=20) if roll < 0.12 else None
            event.status = Status.ACCEPTED if accepted else Status.DISPATCHED
            event.officer_id, event.dispatched_at, event.accepted_at = officer_id, at, accepted
            done = {Action.DISPATCH: at, **({Action.ACCEPT: accepted} if accepted else {})}
            assignments.append(Assignment(event=event, officer_id=officer_id, assigned_at=at, accepted_at=accepted,
                                          status=AssignmentStatus.LIVE, reason="演示"))
        by_status[event.status] += 1
        for pos, st in enumerate(stages):
            due = event.created_at + timedelta(minutes=st["minutes"])
            met = done.get(st["met_by"])
            deadlines.append(Deadline(
                event=event, stage=st["stage"], position=pos, met_by=st["met_by"],
                escalate_to=st.get("escalate_to") or EscalationTarget.TEAM_LEADER, policy_name=policy_name[:100],
                due_at=due, met_at=met, breached_at=due if met and met > due else None,
            ))
        timeline.append(TimelineEntry(event=event, at=event.created_at, actor_label="system", action=Action.CREATE,
                                      to_status=Status.NEW, data={"source": event.source, "severity": event.severity,
                                                                  "demo": "large"}))
        if done:
            timeline.append(TimelineEntry(event=event, at=done[Action.DISPATCH], actor_label="system", action=Action.DISPATCH,
                                          from_status=Status.NEW, to_status=Status.DISPATCHED,
                                          data={"officer": event.officer_id}))
    Event.objects.bulk_update([e for e in events if e.officer_id],
                              ["status", "officer", "dispatched_at", "accepted_at"], batch_size=500)
    Assignment.objects.bulk_create(assignments, batch_size=1000)
    Deadline.objects.bulk_create(deadlines, batch_size=1000)
    TimelineEntry.objects.bulk_create(timeline, batch_size=1000)
    return len(events), by_status


def load(seed: int = 0, *, stdout=None, results=None, large=False, **_ignored) -> dict:
    if not large:
        return {}
    rng = random.Random(seed + SEED_OFFSET)
    _write(stdout, "调度台压力数据（--large）…")
    subjects = _top_up_subjects(rng)
    officers = _top_up_officers(rng)
    events, by_status = _open_events(rng)
    counts = {"subjects_added": subjects, "officers_added": officers, "open_events_added": events,
              "subjects": Subject.objects.count(), "officers": Officer.objects.count(),
              "open_events": Event.objects.exclude(status__in=("closed", "rejected", "duplicate", "transferred")).count(),
              "events_by_status": dict(sorted(by_status.items()))}
    audit.record(None, "demo.large_loaded", None, object_type="demo", object_id=str(seed), object_repr="调度台压力数据",
                 changes={k: [None, v] for k, v in counts.items() if isinstance(v, int)})
    return counts
