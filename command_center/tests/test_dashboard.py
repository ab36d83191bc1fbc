"""The dashboard pages (/command/, /command/screen/) and the figures endpoint: who may open them, what
they show, and the figures computed for the user's areas only."""
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from command_center.dashboard import selectors
from command_center.models import Deadline, Event
from command_center.services import transitions
from command_center.testing import S2_POINT
from grids.choices import DutyStatus

PAGES = ["command-dashboard", "command-screen"]


def client_for(user):
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_pages_open_for_dispatcher_leader_and_bureau(page, users):
    for name in ("dispatcher", "leader_s1", "bureau"):
        response = client_for(users[name]).get(reverse(page))
        assert response.status_code == 200, name
        assert b'id="cc-config"' in response.content
        assert b"js/dashboard/main.js" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_pages_refuse_other_roles_and_anonymous(page, users):
    for name in ("officer_s1", "platform", "nobody"):
        assert client_for(users[name]).get(reverse(page)).status_code == 403, name
    anonymous = client_for(None).get(reverse(page))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


@pytest.mark.django_db
def test_page_config_lists_only_the_users_streets(users, district):
    response = client_for(users["leader_s1"]).get(reverse("command-dashboard"))
    config = response.context["config"]
    assert [s["code"] for s in config["streets"]] == ["S1"]
    assert config["canCommand"] is True
    assert config["snapshotUrl"] == reverse("command-snapshot")
    everyone = client_for(users["dispatcher"]).get(reverse("command-dashboard")).context["config"]
    assert [s["code"] for s in everyone["streets"]] == ["S1", "S2"]


@pytest.mark.django_db
def test_bureau_sees_no_action_forms(users):
    # Bureau staff watch; only dispatchers and team leaders act (the API refuses them too).
    page = client_for(users["bureau"]).get(reverse("command-dashboard"))
    assert page.context["config"]["canCommand"] is False
    assert b'id="cc-actions"' not in page.content
    assert b'id="cc-actions"' in client_for(users["dispatcher"]).get(reverse("command-dashboard")).content


@pytest.mark.django_db
def test_figures_endpoint_refuses_other_roles(api, users):
    url = reverse("command-figures")
    assert api(None).get(url).status_code in (401, 403)
    for name in ("officer_s1", "platform"):
        assert api(users[name]).get(url).status_code == 403, name
    assert api(users["dispatcher"]).get(url).status_code == 200


def _by(rows, key):
    return {r[key]: r["count"] for r in rows}


@pytest.mark.django_db
def test_figures_count_today_by_source_severity_and_problem_type(api, users, report, officers):
    report()                                             # S1, citizen, ZDJY yellow
    report(source="sensor", severity="red")              # S1, sensor, red
    report(problem_type="YYCB", point=(30.3, 120.3))     # S1, YYCB orange
    report(point=S2_POINT, source="hotline_12345")       # S2
    old = report(source="drone")
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))  # not today

    body = api(users["dispatcher"]).get(reverse("command-figures")).json()
    assert body["today"]["total"] == 4
    assert _by(body["today"]["by_source"], "source")["citizen"] == 2
    assert _by(body["today"]["by_source"], "source")["drone"] == 0
    assert _by(body["today"]["by_severity"], "severity") == {"red": 1, "orange": 1, "yellow": 2, "blue": 0}
    assert body["today"]["top_problem_types"][0] == {"code": "ZDJY", "name": "占道经营", "count": 3}
    assert body["open"]["total"] == 5

    # The team leader of S1 sees S1's figures only.
    s1 = api(users["leader_s1"]).get(reverse("command-figures")).json()
    assert s1["today"]["total"] == 3
    assert _by(s1["today"]["by_source"], "source")["hotline_12345"] == 0
    s2 = api(users["leader_s2"]).get(reverse("command-figures")).json()
    assert s2["today"]["total"] == 1 and s2["open"]["total"] == 1


@pytest.mark.django_db
def test_on_time_rate_by_stage_counts_met_and_missed_deadlines(api, users, report, officers):
    cache.clear()  # the analytics figures are cached (a minute for today) per process
    now = timezone.now()
    on_time = report()
    transitions.dispatch(None, on_time, officers["s1"])          # meets nothing by itself in 1315 …
    late = report()
    # every stage missed (the SLA check marks a deadline breached once it is due and not met)
    Deadline.objects.filter(event=late).update(due_at=now - timedelta(seconds=5), breached_at=now)
    transitions.accept(None, Event.objects.get(pk=on_time.pk))   # respond + set out met in time

    figures = api(users["dispatcher"]).get(reverse("command-figures")).json()["on_time"]
    stages = {s["stage"]: s for s in figures["stages"]}
    # The yellow policy is 1315: respond, set out (both met by accepting), handle.
    assert stages["respond"] == {**stages["respond"], "decided": 2, "on_time": 1, "on_time_rate": 50.0}
    assert stages["set_out"]["decided"] == 2 and stages["set_out"]["on_time"] == 1
    # "handle" of the on-time event is neither met nor breached: unknown yet, not counted.
    assert stages["handle"]["decided"] == 1 and stages["handle"]["on_time"] == 0
    assert figures["decided"] == 5 and figures["on_time"] == 2 and figures["rate"] == 40.0
    # Another street's leader counts none of them.
    assert api(users["leader_s2"]).get(reverse("command-figures")).json()["on_time"]["decided"] == 0


@pytest.mark.django_db
def test_desk_on_time_rate_agrees_with_the_analytics_figures(api, users, report, officers):
    """One definition: the header's rate is the screen's and GET /api/v1/stats/events/'s for today."""
    cache.clear()
    on_time, late = report(), report()
    transitions.dispatch(None, on_time, officers["s1"])
    transitions.accept(None, Event.objects.get(pk=on_time.pk))
    Deadline.objects.filter(event=late).update(due_at=timezone.now() - timedelta(seconds=5), breached_at=timezone.now())
    for user in (users["dispatcher"], users["leader_s1"], users["leader_s2"]):
        desk = api(user).get(reverse("command-figures")).json()["on_time"]
        stats = api(user).get(reverse("stats-events")).json()["rows"][0]["stages"]
        screen = api(user).get(reverse("stats-screen")).json()["on_time"]
        assert {k: desk[k] for k in screen} == screen
        assert {s["stage"]: s["on_time_rate"] for s in desk["stages"]} == {k: v["on_time_rate"] for k, v in stats.items()}
    assert api(users["dispatcher"]).get(reverse("command-figures")).json()["on_time"]["rate"] == 40.0


@pytest.mark.django_db
def test_figures_count_overdue_and_officers_on_duty(api, users, report, officers):
    late = report()
    Deadline.objects.filter(event=late).update(due_at=timezone.now() - timedelta(minutes=1))
    report()
    # 张三 on duty with a fresh position; 李四 on duty, but his phone last reported half an hour ago.
    officers["s2"].last_position_at = timezone.now() - timedelta(minutes=30)
    officers["s2"].save()
    body = api(users["dispatcher"]).get(reverse("command-figures")).json()
    assert body["open"]["overdue"] == 1
    assert body["officers"]["on_duty"] == 2 and body["officers"]["total"] == 2
    assert body["officers"]["dispatchable"] == 1  # the header: dispatchable beside signed on
    s2 = api(users["leader_s2"]).get(reverse("command-figures")).json()
    assert s2["open"]["overdue"] == 0 and s2["officers"]["on_duty"] == 1 and s2["officers"]["dispatchable"] == 0
    # On a break counts as signed on, never as dispatchable; off duty as neither.
    officers["s1"].duty_status = DutyStatus.ON_BREAK
    officers["s1"].save()
    officers["s2"].duty_status = DutyStatus.OFF_DUTY
    officers["s2"].save()
    body = api(users["dispatcher"]).get(reverse("command-figures")).json()
    assert (body["officers"]["on_duty"], body["officers"]["dispatchable"]) == (1, 0)


@pytest.mark.django_db
def test_figures_use_a_fixed_number_of_queries(api, users, report, django_assert_max_num_queries):
    from django.core.cache import cache

    for _ in range(5):
        report()
    client = api(users["dispatcher"])
    with django_assert_max_num_queries(20) as few:  # computed afresh, not from the figures' cache
        assert client.get(reverse("command-figures")).status_code == 200
    for _ in range(10):
        report(point=S2_POINT)
    cache.clear()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("command-figures")).status_code == 200


@pytest.mark.django_db
def test_snapshot_query_count_does_not_grow_with_events(api, users, report, officers, django_assert_max_num_queries):
    client = api(users["dispatcher"])
    for _ in range(3):
        report()
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("command-snapshot"))
    for _ in range(12):
        report(point=S2_POINT)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(reverse("command-snapshot")).json()
    assert len(body["events"]) == 15


@pytest.mark.django_db
def test_large_demo_tops_up_subjects_officers_and_open_events(monkeypatch, users, catalog, categories, officers):
    """`load_demo --large`'s dashboard part, scaled down: bulk rows that behave like intake's."""
    from command_center.dashboard import demo_large
    from command_center.models import Assignment, TimelineEntry
    from command_center.selectors import policy_for
    from grids import services as grid_services
    from grids.models import Officer, Subject

    for i in range(4):
        grid_services.insert_subject(None, name=f"商户{i}", category=categories["restaurant"],
                                     lat=30.2 + i * 0.01, lng=120.2)
    monkeypatch.setattr(demo_large, "SUBJECTS", 10)
    monkeypatch.setattr(demo_large, "OFFICERS", 6)
    monkeypatch.setattr(demo_large, "OPEN_EVENTS", 5)
    assert demo_large.load(large=False) == {}

    counts = demo_large.load(seed=1, large=True)

    assert Subject.objects.count() == 10 and Officer.objects.count() == 6
    assert counts["open_events_added"] == 5 and Event.objects.count() == 5
    for event in Event.objects.all():
        assert event.street.code == "S1" and event.team is not None  # routed like intake (only S1 holds the matters)
        stages = [st["stage"] for st in policy_for(event.street, event.severity)[1]]
        assert list(event.deadlines.values_list("stage", flat=True)) == stages
        assert TimelineEntry.objects.filter(event=event, action="create").count() == 1
        live = Assignment.objects.filter(event=event, status="live")
        assert (event.officer_id is None) == (not live.exists())
    # The leader of the other street sees none of them.
    assert selectors.figures_for(users["leader_s2"])["open"]["total"] == 0
    assert selectors.figures_for(users["dispatcher"])["open"]["total"] == 5
