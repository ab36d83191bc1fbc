"""The desk's snapshot (GET /api/v1/command/snapshot/) is read by command_center.dashboard.selectors.snapshot_for:
its answer must be the plain ORM reading's (`reference_snapshot` below, what the endpoint answered before), byte
for byte (the pushed rows' format: the dashboard applies pushed
rows onto it), for every kind of user and area, whatever the language."""
import json

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer

from command_center import push
from command_center.dashboard import selectors
from command_center.models import Deadline, Event
from command_center.services import sweep, transitions
from command_center.testing import S2_POINT
from core import roles
from grids import services as grid_services
from grids.models import AreaMembership

pytestmark = pytest.mark.django_db

SNAPSHOT_URL = "/api/v1/command/snapshot/"
VIEWERS = ("dispatcher", "bureau", "bureau_s1", "leader_s1", "leader_s2", "nobody", "officer_s1")



def reference_snapshot(user) -> dict:
    """The snapshot as the ORM reads it plainly (what the endpoint answered before the lean reading): the
    reference the lean one must equal."""
    from grids import selectors as grid_selectors

    paths = grid_selectors.user_area_paths(user)
    streams = push.groups_for_paths(paths)
    seqs = push.current_seqs(streams)
    events = grid_selectors.scope(Event.objects.exclude(status__in=push.TERMINAL_STATUSES), user, "area__path").order_by("id")
    officers = grid_selectors.officers_for(user).select_related(None).prefetch_related(None).order_by("id")
    return {
        "streams": seqs,
        "terminal_statuses": list(push.TERMINAL_STATUSES),
        "events": _event_rows(events),
        "officers": [{**row, "last_position_at": push._iso(row["last_position_at"])}
                     for row in officers.values(*push.OFFICER_FIELDS)],
    }


def _iso_reader():
    """(how to select a datetime column, how to turn what comes back into `_iso`'s text).

    SQLite keeps a datetime as text, 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC: read as text, it becomes the
    isoformat of the aware value with two string operations, where parsing it into a datetime first is
    most of the snapshot's time. Elsewhere the driver's datetimes go through `_iso`."""
    from django.db import connection
    from django.db.models import F, TextField
    from django.db.models.functions import Cast

    if connection.vendor == "sqlite" and settings.USE_TZ:
        return (lambda name: Cast(name, TextField())), (lambda v: None if v is None else v.replace(" ", "T") + "+00:00")
    return (lambda name: F(name)), push._iso


def _event_rows(qs) -> list[dict]:
    """`event_row` for every event of `qs`, read as plain values in two queries: no model instances,
    so the snapshot's thousands of rows cost a fraction of the time (the same dicts, key for key)."""
    column, iso = _iso_reader()
    times = ("created_at", "updated_at")
    rows = list(qs.values(*(f for f in push.EVENT_FIELDS if f not in times), **{f"t_{t}": column(t) for t in times}))
    by_event = {}
    for row in rows:
        for t in times:
            row[t] = iso(row.pop(f"t_{t}"))
        row["deadlines"] = by_event[row["id"]] = []
    live = (Deadline.objects.filter(cancelled_at__isnull=True, event__in=qs.values("id"))
            .order_by("event_id", "position", "id")
            .values_list("event_id", "stage", column("due_at"), column("met_at"), column("breached_at")))
    for event_id, stage, due_at, met_at, breached_at in live:
        if event_id in by_event:
            by_event[event_id].append({"stage": stage, "due_at": iso(due_at), "met_at": iso(met_at),
                                       "breached_at": iso(breached_at)})
    return rows


def assert_same(user):
    for language in ("zh-hans", "en"):
        with translation.override(language):
            want = reference_snapshot(user)
            got = selectors.snapshot_for(user)
        assert got == want
        assert JSONRenderer().render(got) == JSONRenderer().render(want)  # the same keys in the same order


@pytest.fixture
def desk_state(report, users, officers, django_capture_on_commit_callbacks):
    """Open events in both streets at every stage (dispatched, accepted, on site, breached, escalated), a
    closed one, and an officer with a position: every kind of row and deadline the snapshot shows."""
    dispatcher, officer_user = users["dispatcher"], users["officer_s1"]
    with django_capture_on_commit_callbacks(execute=True):
        new, dispatched, on_site, closed = report(), report(), report(), report()
        report(point=S2_POINT, problem_type="ZDJY")
        transitions.dispatch(dispatcher, dispatched, officers["s1"])
        transitions.dispatch(dispatcher, on_site, officers["s1"])
        transitions.accept(officer_user, on_site)
        transitions.arrive(officer_user, on_site)
        transitions.dispatch(dispatcher, closed, officers["s1"])
        transitions.accept(officer_user, closed)
        transitions.arrive(officer_user, closed)
        transitions.resolve(officer_user, closed, "已劝离")
        transitions.close(dispatcher, closed, 5)
        sweep.sweep_due_deadlines(new.deadlines.order_by("due_at").first().due_at)  # breached, escalated
        grid_services.record_position(officer_user, officers["s1"], lat=30.21, lng=120.21, recorded_at=timezone.now())
    return {"closed": closed}


def test_the_snapshot_answers_as_push_for_every_viewer(desk_state, users):
    snapshot = selectors.snapshot_for(users["dispatcher"])
    events = snapshot["events"]
    assert len(events) == 4 and desk_state["closed"].pk not in {e["id"] for e in events}
    deadlines = [d for e in events for d in e["deadlines"]]
    assert any(d["met_at"] for d in deadlines) and any(d["breached_at"] for d in deadlines)
    assert any(o["last_position_at"] for o in snapshot["officers"])
    for name in VIEWERS:
        assert_same(users[name])


def test_where_the_database_gives_datetimes_they_are_formatted_as_push(desk_state, users, settings):
    """Without USE_TZ the columns come back as datetimes, not the database's text: formatted per row."""
    settings.USE_TZ = False
    selectors._SNAPSHOT_QUERIES.clear()
    try:
        snapshot = selectors.snapshot_for(users["dispatcher"])
        assert snapshot["events"] and all(isinstance(e["created_at"], str) for e in snapshot["events"])
        assert_same(users["dispatcher"])
    finally:
        selectors._SNAPSHOT_QUERIES.clear()


def test_a_superuser_and_a_user_without_areas_answer_as_push(desk_state, users):
    User = get_user_model()
    assert_same(User.objects.create_superuser("root-h2", password="x"))
    lost = User.objects.create_user("no-areas", password="x")
    lost.groups.add(*users["dispatcher"].groups.all())
    assert roles.has_role(lost, roles.DISPATCHER)
    assert_same(lost)
    assert selectors.snapshot_for(lost)["events"] == []


def test_a_change_of_areas_changes_what_the_snapshot_reads(desk_state, users, district):
    """The compiled queries are kept per user and areas: a new area is a new query, not the old one's rows."""
    leader = users["leader_s1"]
    before = selectors.snapshot_for(leader)
    AreaMembership.objects.create(user=leader, area=district["S2"])
    leader = get_user_model().objects.get(pk=leader.pk)  # a new request: no paths kept on the user object
    after = selectors.snapshot_for(leader)
    assert len(after["events"]) == len(before["events"]) + 1 and len(after["streams"]) == 2
    assert_same(leader)


def test_the_endpoint_answers_the_lean_snapshot(desk_state, api, users):
    for name in ("dispatcher", "leader_s2"):
        body = api(users[name]).get(SNAPSHOT_URL).json()
        assert body == json.loads(JSONRenderer().render(reference_snapshot(users[name])))


def test_the_snapshot_reads_three_queries_however_many_events(report, users, officers, django_assert_num_queries):
    dispatcher = users["dispatcher"]
    for _ in range(3):
        report()
    selectors.snapshot_for(dispatcher)  # the user's areas, as a running process has them
    with django_assert_num_queries(3):  # events, their live deadlines, officers
        assert len(selectors.snapshot_for(dispatcher)["events"]) == 3
    for _ in range(12):
        report(point=S2_POINT)
    with django_assert_num_queries(3):
        assert len(selectors.snapshot_for(dispatcher)["events"]) == 15
