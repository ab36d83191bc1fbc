"""The phone page's live parts through Django's test client: a task's card on its own (what the page
fetches when the stream announces it), the duty status shown, today's completed tasks (the district's
day), and where each role lands after signing in."""
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from command_center.choices import AssignmentStatus
from command_center.mobile import selectors
from command_center.models import Assignment
from command_center.services import transitions

from core import roles
from grids import accounts
from grids.choices import DutyStatus

pytestmark = pytest.mark.django_db


def finish(users, officer, report, **fields):
    user = officer.user
    event = transitions.arrive(user, transitions.accept(user, transitions.dispatch(users["dispatcher"], report(**fields), officer)))
    return transitions.resolve(user, event, "已处理")


# --- one card -------------------------------------------------------------------------------------

def test_a_task_card_on_its_own_is_the_pages_card(client, users, officers, report):
    event = transitions.dispatch(users["dispatcher"], report(description="学校门口流动摊贩"), officers["s1"])
    client.force_login(users["officer_s1"])
    r = client.get(f"/m/tasks/{event.pk}/")
    assert r.status_code == 200
    card = r.content.decode()
    assert card.startswith(f'<article class="task sev-{event.severity}" id="task-{event.pk}"')
    assert "学校门口流动摊贩" in card and 'data-action="accept"' in card and "data-due=" in card
    page = client.get("/m/").content.decode()
    assert card.strip() in page  # the same markup the page renders


def test_a_task_card_is_refused_to_others(client, users, officers, report, crew):
    event = transitions.dispatch(users["dispatcher"], report(), officers["s1"])
    other = transitions.dispatch(users["dispatcher"], report(), crew["near"])  # another officer of the street
    url = f"/m/tasks/{event.pk}/"
    r = client.get(url)
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    for who in ("dispatcher", "leader_s1", "platform"):
        client.force_login(users[who])
        assert client.get(url).status_code == 403, who
    client.force_login(users["officer_s1"])
    assert client.get(f"/m/tasks/{other.pk}/").status_code == 404  # another officer's
    assert client.get("/m/tasks/999999/").status_code == 404
    transitions.dispatch(users["dispatcher"], event, crew["near"], reassign=True)
    assert client.get(url).status_code == 404  # no longer theirs


# --- the duty status --------------------------------------------------------------------------------

def test_the_header_shows_the_status_the_task_gives(client, users, officers, report):
    officer = officers["s1"]
    officer.duty_status = "available"
    officer.save(update_fields=["duty_status"])
    client.force_login(users["officer_s1"])

    def shown():
        html = client.get("/m/").content.decode()
        return html.split('id="m-status"', 1)[1].split("</span>", 1)[0]

    assert "空闲" in shown()
    event = transitions.accept(officer.user, transitions.dispatch(users["dispatcher"], report(), officer))
    assert shown() == ' data-status="en_route">' + str(DutyStatus.EN_ROUTE.label)
    event = transitions.arrive(officer.user, event)
    assert shown() == ' data-status="on_scene">' + str(DutyStatus.ON_SCENE.label)
    transitions.resolve(officer.user, event, "已劝离")
    assert 'data-status="available"' in shown() and "空闲" in shown()


# --- today's completed tasks --------------------------------------------------------------------------

def test_completed_today_counts_the_districts_day(users, officers, report, settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    officer = officers["s1"]
    before_midnight, after_midnight = finish(users, officer, report), finish(users, officer, report)
    # 2026-12-04 23:59 and 2026-12-05 00:30 in Shanghai (UTC+8): two different days there, one in UTC.
    Assignment.objects.filter(event=before_midnight, status=AssignmentStatus.DONE).update(
        ended_at=datetime(2026, 12, 4, 15, 59, tzinfo=dt_timezone.utc))
    Assignment.objects.filter(event=after_midnight, status=AssignmentStatus.DONE).update(
        ended_at=datetime(2026, 12, 4, 16, 30, tzinfo=dt_timezone.utc))
    user = officer.user
    one_am = datetime(2026, 12, 4, 17, 0, tzinfo=dt_timezone.utc)  # 01:00 on the 5th in Shanghai
    assert [e.pk for e in selectors.completed_today(user, officer, now=one_am)] == [after_midnight.pk]
    eleven_pm = datetime(2026, 12, 4, 15, 59, 30, tzinfo=dt_timezone.utc)  # 23:59:30 on the 4th
    assert [e.pk for e in selectors.completed_today(user, officer, now=eleven_pm)] == [before_midnight.pk]
    assert selectors.completed_today(user, officer, now=one_am + timedelta(days=1)) == []
    start, end = selectors.day_bounds(one_am)
    assert (start.isoformat(), end.isoformat()) == ("2026-12-05T00:00:00+08:00", "2026-12-06T00:00:00+08:00")


def test_completed_today_on_the_page(client, users, officers, report):
    officer = officers["s1"]
    done = [finish(users, officer, report, address=f"测试路{i}号") for i in range(2)]
    live = transitions.dispatch(users["dispatcher"], report(), officer)
    # Declined or taken away is not completed; another officer's completion is not theirs.
    declined = transitions.dispatch(users["dispatcher"], report(), officer)
    transitions.decline(officer.user, declined, "不在片区")
    client.force_login(users["officer_s1"])
    r = client.get("/m/")
    assert [e.pk for e in r.context["done_today"]] == [done[1].pk, done[0].pk]
    html = r.content.decode()
    section = html.split('id="done-today"', 1)[1]
    assert '<span class="m-count">2</span>' in section and "测试路1号" in section and "测试路0号" in section
    assert f'data-id="{live.pk}"' not in section and f'data-id="{declined.pk}"' not in section


def test_nothing_completed_today(client, users, officers):
    client.force_login(users["officer_s1"])
    assert "今天还没有完成的任务。" in client.get("/m/").content.decode()


# --- where each role lands ---------------------------------------------------------------------------

def login(client, username, next_=None):
    url = "/login/" + (f"?next={next_}" if next_ else "")
    return client.post(url, {"username": username, "password": "pass-word-1"})


def test_an_officer_lands_on_the_phone_page(client, users, officers):
    r = login(client, "officer_s1")
    assert r.status_code == 302 and r["Location"] == "/m/"


@pytest.mark.parametrize("who", ["dispatcher", "leader_s1", "bureau"])
def test_other_roles_land_on_the_desk_home(client, users, who):
    r = login(client, who)
    assert r.status_code == 302 and r["Location"] == "/"


def test_an_explicit_next_still_wins_when_allowed(client, users, officers):
    r = login(client, "officer_s1", next_="/command/")
    assert r["Location"] == "/command/"
    client.logout()
    r = login(client, "officer_s1", next_="https://evil.example/")  # not allowed: the role's landing
    assert r["Location"] == "/m/"


def test_a_superuser_lands_on_the_desk_home(client, district):
    user, _ = accounts.add_user(None, username="root2", role=roles.OFFICER, area_codes=["S1"], password="pass-word-1")
    user.is_superuser = True
    user.save()
    assert login(client, "root2")["Location"] == "/"


def test_the_page_costs_the_same_queries_for_more_tasks(client, users, officers, report):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    officer = officers["s1"]
    client.force_login(users["officer_s1"])

    def add_and_count(n):
        for _ in range(n):
            finish(users, officer, report)
            transitions.dispatch(users["dispatcher"], report(), officer)
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/m/")
        assert r.status_code == 200
        return len(ctx), len(r.context["tasks"]), len(r.context["done_today"])

    client.get("/m/")  # the user's roles and areas are read once per process (core.refcache), then kept
    few, many = add_and_count(2), add_and_count(4)
    assert few[1:] == (2, 2) and many[1:] == (6, 6)
    assert few[0] == many[0]  # no query per task or per completed task
