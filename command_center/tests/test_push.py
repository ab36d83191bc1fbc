"""Live push: messages built on commit, streams and seq, the snapshot endpoint, and Zulip's verify_action:
for each kind of change, a stale snapshot + the pushed messages = a fresh snapshot."""
import copy
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center import push
from command_center.dashboard import selectors as dashboard_selectors
from command_center.services import escalation, sweep, transitions
from command_center.testing import S2_POINT
from grids import selectors as grid_selectors
from grids import services as grid_services

SNAPSHOT_URL = "/api/v1/command/snapshot/"


def deliver(user, sent_messages):
    """What the user's consumer would forward: messages of its groups, in its areas (as CommandConsumer)."""
    paths = grid_selectors.user_area_paths(user)
    groups = set(push.groups_for_paths(paths))
    return [m["payload"] for g, m in sent_messages if g in groups and grid_selectors.paths_cover(paths, m["path"])]


def apply(snapshot, messages):
    """The client's side: upsert rows by id (drop terminal ones), move officers, advance each stream's seq
    (a gap would mean a lost message: the client would resync)."""
    state = copy.deepcopy(snapshot)
    events = {row["id"]: row for row in state["events"]}
    officers = {row["id"]: row for row in state["officers"]}
    for msg in messages:
        assert msg["type"] in push.MESSAGE_TYPES
        assert msg["seq"] == state["streams"][msg["stream"]] + 1, "gap in the stream"
        state["streams"][msg["stream"]] = msg["seq"]
        if "event" in msg:
            row = msg["event"]
            held = events.get(row["id"])
            if held is not None and held["version"] > row["version"]:
                continue
            if row["status"] in state["terminal_statuses"]:
                events.pop(row["id"], None)
            else:
                events[row["id"]] = row
        if "officer" in msg and msg["officer"]["id"] in officers:
            officers[msg["officer"]["id"]] = msg["officer"]
    state["events"] = [events[k] for k in sorted(events)]
    state["officers"] = [officers[k] for k in sorted(officers)]
    return state


def verify_action(user, action, capture, sent_messages):
    """Snapshot, act (on-commit callbacks run), apply the user's messages to the stale snapshot, compare."""
    before = dashboard_selectors.snapshot_for(user)
    start = len(sent_messages)
    with capture(execute=True):
        action()
    messages = deliver(user, sent_messages[start:])
    after = dashboard_selectors.snapshot_for(user)
    assert apply(before, messages) == after
    return messages


@pytest.fixture
def flow(report, users, officers, django_capture_on_commit_callbacks):
    """An event created with its on-commit callbacks run (so its push went out)."""

    def make(**fields):
        with django_capture_on_commit_callbacks(execute=True):
            return report(**fields)

    return make


# --- groups, coverage ----------------------------------------------------------------------------

def test_groups_for_paths(users, district):
    assert push.groups_for_paths(None) == ["cc.district"]
    assert push.groups_for_paths([]) == []
    s1, s2 = district["S1"], district["S2"]
    assert push.groups_for_paths([s1.path, district["S1G1"].path, s2.path]) == [
        f"cc.street.{s1.pk}", f"cc.street.{s2.pk}"]
    for group in push.groups_for_paths([s1.path]) + ["cc.district"]:
        assert len(group) < 100 and all(c.isalnum() or c in "._-" for c in group)
    assert grid_selectors.paths_cover(None, "/x/")
    assert grid_selectors.paths_cover([s1.path], district["S1G1M1"].path)
    assert not grid_selectors.paths_cover([district["S1G1"].path], district["S1G2"].path)
    assert not grid_selectors.paths_cover([s1.path], None)


# --- messages -----------------------------------------------------------------------------------

def test_created_goes_to_its_street_and_the_district_with_seq_per_stream(flow, sent, district, users):
    e1 = flow()
    e2 = flow()
    street = f"cc.street.{district['S1'].pk}"
    groups = [g for g, _m in sent]
    assert groups == [street, "cc.district", street, "cc.district"]
    payloads = [m["payload"] for _g, m in sent]
    assert {p["type"] for p in payloads} == {"event.created"}
    assert [p["event"]["id"] for p in payloads] == [e1.pk, e1.pk, e2.pk, e2.pk]
    assert payloads[2]["seq"] == payloads[0]["seq"] + 1  # per stream
    assert payloads[3]["seq"] == payloads[1]["seq"] + 1
    assert payloads[0]["stream"] == street and payloads[1]["stream"] == "cc.district"
    # One row format: the pushed row is the snapshot's.
    snap = dashboard_selectors.snapshot_for(users["dispatcher"])
    assert snap["events"][-1] == payloads[3]["event"]


def test_street_users_receive_only_their_streets_events(flow, sent, users):
    flow()  # S1
    flow(point=S2_POINT, problem_type="ZDJY")  # S2 (routed to a department: not delegated there)
    s1_ids = {p["event"]["id"] for p in deliver(users["leader_s1"], sent)}
    s2_ids = {p["event"]["id"] for p in deliver(users["leader_s2"], sent)}
    all_ids = {p["event"]["id"] for p in deliver(users["dispatcher"], sent)}
    assert len(s1_ids) == len(s2_ids) == 1 and s1_ids.isdisjoint(s2_ids) and all_ids == s1_ids | s2_ids
    assert deliver(users["nobody"], sent) == []  # bound to a micro-grid of S2, no event there


def test_assignment_actions_are_pushed_as_assignment_changed(flow, sent, users, officers,
                                                              django_capture_on_commit_callbacks):
    e = flow()
    with django_capture_on_commit_callbacks(execute=True):
        transitions.dispatch(users["dispatcher"], e, officers["s1"])
    msg = deliver(users["dispatcher"], sent)[-1]
    assert msg["type"] == "assignment.changed" and msg["action"] == "dispatch"
    assert msg["event"]["officer_id"] == officers["s1"].pk and msg["event"]["status"] == "dispatched"


def test_a_layer_that_is_down_never_breaks_the_service(report, users, monkeypatch, caplog,
                                                        django_capture_on_commit_callbacks):
    def down(messages):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(push, "_group_send_many", down)
    with caplog.at_level(logging.ERROR, logger="command_center.push"):
        with django_capture_on_commit_callbacks(execute=True):
            event = report()
    assert event.pk and "live push" in caplog.text


def test_local_sequence_counts_per_stream():
    seq = push.LocalSequence()
    assert [seq.next("a"), seq.next("a"), seq.next("b")] == [1, 2, 1]
    assert seq.current(["a", "b", "c"]) == {"a": 2, "b": 1, "c": 0}
    assert seq.reserve({"a": 3, "c": 2}) == {"a": 3, "c": 1}  # a: 3, 4, 5; c: 1, 2
    assert seq.next("a") == 6 and seq.current(["c"]) == {"c": 2}


def test_officer_moved_is_pushed_to_its_street(officers, users, sent, district, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        grid_services.record_position(users["officer_s1"], officers["s1"], lat=30.3, lng=120.3,
                                      recorded_at=timezone.now())
    assert [g for g, _m in sent] == [f"cc.street.{district['S1'].pk}", "cc.district"]
    msg = sent[-1][1]["payload"]
    assert msg["type"] == "officer.moved" and msg["officer"]["last_lat"] == 30.3
    assert deliver(users["leader_s2"], sent) == []
    # An older ping does not move the officer: nothing is pushed.
    with django_capture_on_commit_callbacks(execute=True):
        grid_services.record_position(users["officer_s1"], officers["s1"], lat=30.4, lng=120.4,
                                      recorded_at=timezone.now() - timedelta(hours=1))
    assert len(sent) == 2


# --- verify_action: snapshot + pushed = fresh snapshot, for every kind ---------------------------

@pytest.mark.parametrize("viewer", ["dispatcher", "leader_s1"])
def test_verify_action_through_the_whole_flow(viewer, report, users, officers, sent,
                                              django_capture_on_commit_callbacks):
    user = users[viewer]
    cap = django_capture_on_commit_callbacks
    dispatcher, officer_user, officer = users["dispatcher"], users["officer_s1"], officers["s1"]
    box = {}

    def create():
        box["e"] = report()

    kinds = []
    for action in (
        create,
        lambda: transitions.dispatch(dispatcher, box["e"], officer),
        lambda: transitions.accept(officer_user, box["e"]),
        lambda: transitions.set_severity(dispatcher, box["e"], "red", "现场有人员聚集"),
        lambda: transitions.arrive(officer_user, box["e"]),
        lambda: grid_services.record_position(officer_user, officer, lat=30.21, lng=120.21,
                                              recorded_at=timezone.now()),
        lambda: sweep.sweep_due_deadlines(timezone.now() + timedelta(days=1)),
        lambda: transitions.resolve(officer_user, box["e"], "已劝离"),
        lambda: transitions.close(dispatcher, box["e"], 5),
    ):
        messages = verify_action(user, action, cap, sent)
        assert messages, "every action pushes something"
        kinds.extend(m["type"] for m in messages)
    assert set(kinds) == set(push.MESSAGE_TYPES)
    assert dashboard_selectors.snapshot_for(user)["events"] == []  # closed: gone from the dashboard


def test_verify_action_for_side_exits_and_decline(report, users, officers, departments, sent,
                                                  django_capture_on_commit_callbacks):
    user, cap = users["dispatcher"], django_capture_on_commit_callbacks
    box = {}

    def create_two():
        box["a"], box["b"] = report(), report(description="另一处占道经营")

    verify_action(user, create_two, cap, sent)
    for action in (
        lambda: transitions.dispatch(user, box["a"], officers["s1"]),
        lambda: transitions.decline(users["officer_s1"], box["a"], "不在辖区"),
        lambda: escalation.escalate(user, box["a"], "久拖未决"),
        lambda: transitions.merge(user, box["b"], box["a"]),
        lambda: transitions.reject(user, box["a"], "不属于本部门职责"),
    ):
        verify_action(user, action, cap, sent)
    assert dashboard_selectors.snapshot_for(user)["events"] == []


def test_breach_message(report, users, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        e = report()
    first = e.deadlines.order_by("due_at").first()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.sweep_due_deadlines(first.due_at) == 1
    msg = deliver(users["dispatcher"], sent)[-1]
    assert msg["type"] == "sla.breached" and msg["breach"]["stage"] == first.stage
    assert msg["event"]["escalation_level"] >= 1
    assert [d["breached_at"] for d in msg["event"]["deadlines"]][0] == first.due_at.isoformat()


def test_a_sweeps_breaches_go_out_in_one_send(flow, users, district, monkeypatch, django_capture_on_commit_callbacks):
    """A sweep's batch: one send for all its messages, consecutive seq numbers per stream, and (verify_action)
    a stale snapshot + those messages = a fresh snapshot, for the district and for a street."""
    s1_events = [flow(point=(30.1 + i * 0.1, 120.2)) for i in range(3)]
    s2_event = flow(point=S2_POINT, problem_type="ZDJY")
    first_due = min(d.due_at for e in s1_events for d in e.deadlines.all())
    batches = []
    # The district's dispatcher sees the first stages breach; a street's leader, all the later ones.
    for user, when in ((users["dispatcher"], first_due + timedelta(minutes=1)),
                       (users["leader_s1"], first_due + timedelta(days=1))):
        sent = []
        monkeypatch.setattr(push, "_group_send_many", lambda messages, sent=sent: (batches.append(messages),
                                                                                    sent.extend(messages)))
        verify_action(user, lambda when=when: sweep.sweep_due_deadlines(when),
                      django_capture_on_commit_callbacks, sent)
    first, second = batches
    payloads = [m["payload"] for _g, m in first]
    assert {p["type"] for p in payloads} == {"sla.breached"}
    street = f"cc.street.{district['S1'].pk}"
    for stream in (street, "cc.district"):
        seqs = [p["seq"] for p in payloads if p["stream"] == stream]
        assert len(seqs) >= 3 and seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert {p["event"]["id"] for p in payloads} == {e.pk for e in s1_events + [s2_event]}
    assert len(second) > 0


# --- the snapshot endpoint ------------------------------------------------------------------------

def test_snapshot_refuses_other_roles(api, users):
    assert api().get(SNAPSHOT_URL).status_code in (401, 403)
    for name in ("officer_s1", "platform"):
        assert api(users[name]).get(SNAPSHOT_URL).status_code == 403


def test_snapshot_is_scoped_and_carries_the_streams_seq(flow, api, users, district, officers, sent):
    e1 = flow()
    e2 = flow(point=S2_POINT)
    body = api(users["leader_s2"]).get(SNAPSHOT_URL).json()
    assert [r["id"] for r in body["events"]] == [e2.pk]
    assert [o["id"] for o in body["officers"]] == [officers["s2"].pk]
    street = f"cc.street.{district['S2'].pk}"
    assert list(body["streams"]) == [street]
    assert body["streams"][street] == [m["payload"] for g, m in sent if g == street][-1]["seq"]
    body = api(users["dispatcher"]).get(SNAPSHOT_URL).json()
    assert [r["id"] for r in body["events"]] == [e1.pk, e2.pk]
    assert list(body["streams"]) == ["cc.district"] and body["streams"]["cc.district"] >= 2
    assert {"id", "version", "status", "severity", "street_id", "officer_id", "deadlines"} <= set(body["events"][0])
    assert {"id", "duty_status", "last_lat", "last_lng", "last_position_at"} <= set(body["officers"][0])
    assert api(users["bureau_s1"]).get(SNAPSHOT_URL).json()["events"][0]["id"] == e1.pk


def test_snapshot_query_count_does_not_grow(report, api, users, officers, django_assert_max_num_queries):
    for i in range(3):
        report(description=f"占道经营 {i}")
    client = api(users["dispatcher"])
    with django_assert_max_num_queries(6):
        small = client.get(SNAPSHOT_URL)
    for i in range(12):
        report(description=f"占道经营 更多 {i}")
    with django_assert_max_num_queries(6):
        big = client.get(SNAPSHOT_URL)
    assert len(big.json()["events"]) == len(small.json()["events"]) + 12


def test_a_push_costs_two_queries(report, officers, sent, django_assert_max_num_queries):
    event = report()
    with django_assert_max_num_queries(2):
        assert len(push.on_event_changed(None, kind="event.updated", event_id=event.pk, action="escalate")) == 2
    with django_assert_max_num_queries(1):
        assert len(push.on_officer_moved(None, officer_id=officers["s1"].pk)) == 2
    assert push.on_event_changed(None, kind="event.updated", event_id=10**9, action="accept") == []



def test_a_created_event_is_pushed_as_written_without_reading_it_back(report, users, district, categories, sent,
                                                                      monkeypatch, django_capture_on_commit_callbacks):
    """Intake hands the push the row it wrote (no read back); that row is the one a fresh snapshot shows,
    subject and deadlines included."""
    from grids.models import Subject

    Subject.objects.create(name="老王面馆", category=categories["restaurant"], lat=30.20010, lng=120.2,
                           grid=district["S1G1"])

    def no_read(event_id):
        raise AssertionError("a created event's push must not read it back")

    monkeypatch.setattr(push, "_event_for_push", no_read)
    messages = verify_action(users["dispatcher"], lambda: report(problem_type="YYCB", point=(30.2, 120.2)),
                             django_capture_on_commit_callbacks, sent)
    assert [m["type"] for m in messages] == ["event.created"]
    row = messages[0]["event"]
    assert row["version"] == 1 and len(row["deadlines"]) >= 1 and row["street_id"] == district["S1"].pk


class _HeldLayer:
    """A shared layer's group_send_many that records each call and holds the first until released."""

    def __init__(self, fail=None):
        import threading

        self.calls, self.started, self.fail = [], threading.Event(), fail
        self.release = None

    async def group_send_many(self, messages):
        import asyncio

        self.calls.append(list(messages))
        if self.release is None:
            self.release = asyncio.Event()
            self.started.set()
            await self.release.wait()
        if self.fail is not None:
            raise self.fail


def test_pushes_handed_over_while_one_is_out_go_together_in_order():
    """The sender loop sends what arrived during a send in one group_send_many: under a flood its cost per
    push falls instead of its lag growing (bench/desks.py gave hundreds up to the drain before)."""
    layer = _HeldLayer()
    sends = push._HandedOverSends(layer, push._sender_loop())
    first = sends.submit([("g1", {"n": 1})])
    assert layer.started.wait(5)
    later = [sends.submit([("g1", {"n": n}), ("g2", {"n": n})]) for n in (2, 3)]
    sends.loop.call_soon_threadsafe(layer.release.set)
    for future in (first, *later):
        assert future.result(5) is None
    assert layer.calls == [[("g1", {"n": 1})], [("g1", {"n": 2}), ("g2", {"n": 2}), ("g1", {"n": 3}), ("g2", {"n": 3})]]


def test_a_failed_batch_fails_each_of_its_pushes():
    layer = _HeldLayer(fail=ConnectionError("redis is down"))
    sends = push._HandedOverSends(layer, push._sender_loop())
    first = sends.submit([("g1", {"n": 1})])
    assert layer.started.wait(5)
    second = sends.submit([("g1", {"n": 2})])
    sends.loop.call_soon_threadsafe(layer.release.set)
    for future in (first, second):
        assert isinstance(future.exception(5), ConnectionError)
    assert sends.submit([("g1", {"n": 3})]).exception(5) is not None  # the next batch is sent (and fails) too
    assert len(layer.calls) == 3
