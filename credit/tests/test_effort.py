"""Effort rules: who is due in a month and why (red re-inspection and neighbours, yellow patrol and
look-back, green spot checks), the rules' API (bureau staff, audited) and the refusals."""
import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.exceptions import Forbidden, NotFound, ValidationFailed
from core.models import AuditLog
from credit import effort
from credit.choices import FactKind
from credit.models import CreditFact, CreditHistory, CreditScore, EffortRule
from grids.models import Subject

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOV = (date(2026, 11, 1), date(2026, 11, 30))
# One metre of latitude, in degrees.
M = 1 / 110_574


def at(y, m, d):
    return datetime(y, m, d, 10, 0, tzinfo=TZ)


@pytest.fixture
def make(district, categories):
    def make(name, *, color=None, grid="S1G1", lat=30.25, lng=120.25, since=None, score=None):
        s = Subject.objects.create(name=name, category=categories["restaurant"], lat=lat, lng=lng, grid=district[grid])
        if color:
            CreditScore.objects.create(subject=s, color=color, computed_color=color, computed_at=since or at(2026, 10, 1),
                                       score=score if score is not None else {"green": 0, "yellow": 15, "red": 30}[color])
            if color != "green":
                CreditHistory.objects.create(subject=s, from_color="green", to_color=color, score=30,
                                             changed_at=since or at(2026, 10, 1), cause="fact_posted")
        return s

    return make


def due(user, area, month=NOV):
    items, summary = effort.due_in(user, area, *month)
    return items, summary


def rows_of(items, rule):
    return [(i.subject, i.due_date) for i in items if i.rule == rule]


def test_red_is_reinspected_every_n_days_from_the_day_it_turned_red(make, district, users):
    red = make("红店", color="red", since=at(2026, 10, 3))
    items, summary = due(users["leader_s1"], district["S1"])
    # 10-03 + 15 days × k: 10-18, 11-02, 11-17, 12-02 → two in November.
    assert rows_of(items, "red_reinspect") == [(red.pk, date(2026, 11, 2)), (red.pk, date(2026, 11, 17))]
    first = next(i for i in items if i.rule == "red_reinspect")
    assert first.color == "red" and "2026-10-03" in first.reason and "15" in first.reason
    assert summary["by_color"]["red"] == 1 and summary["by_rule"]["red_reinspect"] == 2
    # The interval is the bureau's to set.
    effort.update_rule(users["bureau"], "red", reinspect_every_days=10)
    items, _ = due(users["leader_s1"], district["S1"])
    assert [d for _s, d in rows_of(items, "red_reinspect")] == [date(2026, 11, 2), date(2026, 11, 12), date(2026, 11, 22)]



def test_neighbours_of_a_red_subject_within_the_radius_are_visited_along(make, district, users):
    red = make("红店", color="red", since=at(2026, 10, 3))
    near = make("隔壁", color="green", lat=30.25 + 30 * M)
    far = make("远处", color="green", lat=30.25 + 400 * M)
    also_red = make("另一红店", color="red", lat=30.25 - 40 * M, since=at(2026, 10, 3))
    east = make("东邻", color="yellow", lng=120.25 + 48 / (111_320 * math.cos(math.radians(30.25))))
    items, _ = due(users["leader_s1"], district["S1"])
    visits = [i for i in items if i.rule == "red_neighbour"]
    assert [(i.subject, i.related_subject, i.due_date) for i in visits] == [
        (near.pk, red.pk, date(2026, 11, 2)), (east.pk, red.pk, date(2026, 11, 2))]
    assert "红店" in visits[0].reason and "30" in visits[0].reason
    assert far.pk not in {i.subject for i in visits} and also_red.pk not in {i.subject for i in visits}
    # Same grid as well: the far one (same grid) is visited too; radius 0 and no grid: nobody.
    effort.update_rule(users["bureau"], "red", neighbour_same_grid=True)
    items, _ = due(users["leader_s1"], district["S1"])
    assert {i.subject for i in items if i.rule == "red_neighbour"} == {near.pk, far.pk, east.pk}
    effort.update_rule(users["bureau"], "red", neighbour_same_grid=False, neighbour_radius_m=0)
    items, _ = due(users["leader_s1"], district["S1"])
    assert not [i for i in items if i.rule == "red_neighbour"]


def test_yellow_gets_monthly_patrols_and_a_look_back_after_rectification(make, district, users):
    yellow = make("黄店", color="yellow")
    fact = CreditFact.objects.create(subject=yellow, kind=FactKind.RECTIFICATION_OPEN, occurred_at=at(2026, 10, 1),
                                     source_app="enforcement", source_model="rectification", source_pk="7",
                                     source_text="油烟净化器整改", withdrawn_at=at(2026, 10, 20), withdrawn_reason="已整改")
    still_open = CreditFact.objects.create(subject=yellow, kind=FactKind.RECTIFICATION_OPEN, occurred_at=at(2026, 10, 5),
                                           source_app="enforcement", source_model="rectification", source_pk="8")
    items, _ = due(users["leader_s1"], district["S1"])
    patrols = rows_of(items, "yellow_patrol")
    assert len(patrols) == 1 and NOV[0] <= patrols[0][1] <= NOV[1]
    # Done 10-20, look back 15 days later: 11-04; the one still open has no look-back yet.
    lookbacks = [i for i in items if i.rule == "yellow_lookback"]
    assert [(i.subject, i.due_date) for i in lookbacks] == [(yellow.pk, date(2026, 11, 4))]
    assert "油烟净化器整改" in lookbacks[0].reason
    assert still_open.withdrawn_at is None and fact.withdrawn_at
    # Two patrols a month: one in each half.
    effort.update_rule(users["bureau"], "yellow", patrols_per_month=2)
    items, _ = due(users["leader_s1"], district["S1"])
    days = [d for _s, d in rows_of(items, "yellow_patrol")]
    assert len(days) == 2 and days[0] <= date(2026, 11, 15) < days[1]
    # Same answer the next time: the spread is a function of (month, subject).
    assert days == [d for _s, d in rows_of(due(users["leader_s1"], district["S1"])[0], "yellow_patrol")]


def test_green_spot_checks_are_a_fixed_share_drawn_the_same_way_each_time(make, district, users):
    greens = [make(f"绿店{i}", color="green", grid="S1G1" if i % 2 else "S1G2") for i in range(30)]
    unscored = [make(f"新店{i}") for i in range(10)]  # no score yet: green
    items, summary = due(users["leader_s1"], district["S1"])
    drawn = [s for s, _d in rows_of(items, "green_spot_check")]
    assert len(drawn) == 4  # ceil(40 × 10%)
    assert set(drawn) <= {s.pk for s in greens + unscored}
    assert summary["green_not_inspected"] == 36
    # Deterministic per month; another month draws again.
    assert drawn == [s for s, _d in rows_of(due(users["leader_s1"], district["S1"])[0], "green_spot_check")]
    months = {tuple(sorted(s for s, _d in rows_of(due(users["leader_s1"], district["S1"], (date(2026, m, 1), date(2026, m, 28)))[0], "green_spot_check")))
              for m in range(1, 13)}
    assert len(months) > 1
    # Asking about one grid gives that grid's part of the street's draw, not a draw of its own.
    in_grid = {s for s, _d in rows_of(due(users["leader_s1"], district["S1G1"])[0], "green_spot_check")}
    assert in_grid == {s for s in drawn if Subject.objects.get(pk=s).grid_id == district["S1G1"].pk}
    # 0 % → no inspection at all (一次不查).
    effort.update_rule(users["bureau"], "green", spot_check_percent=0)
    items, summary = due(users["leader_s1"], district["S1"])
    assert not rows_of(items, "green_spot_check") and summary["green_not_inspected"] == 40


def test_due_list_is_scoped_by_the_users_areas(make, district, users):
    make("S1 红店", color="red", since=at(2026, 10, 3))
    s2 = make("S2 红店", color="red", grid="S2G1", lng=121.25, since=at(2026, 10, 3))
    items, _ = due(users["dispatcher"], district["district"])
    assert s2.pk in {i.subject for i in items}
    with pytest.raises(NotFound):
        effort.area_for(users["leader_s1"], "S2")
    with pytest.raises(NotFound):
        effort.area_for(users["leader_s1"], "D")  # above their street
    with pytest.raises(NotFound):
        effort.area_for(users["leader_s1"], "NOPE")
    with pytest.raises(Forbidden):
        due(users["officer_s1"], district["S1"])


@pytest.mark.parametrize("raw", ["2026-13", "2026-1", "26-11", "abc", "1999-12", "2026-11-01"])
def test_bad_month(raw):
    with pytest.raises(ValidationFailed) as exc:
        effort.parse_month(raw)
    assert "month" in exc.value.fields


# --- API ----------------------------------------------------------------------------------------

URL = "/api/v1/credit/effort/"


def test_api_lists_who_is_due_and_why(make, district, users, api, django_assert_max_num_queries):
    red = make("红店", color="red", since=at(2026, 10, 3))
    for i in range(20):
        make(f"绿店{i}", color="green", lat=30.25 + (i + 5) * 100 * M)
    with django_assert_max_num_queries(15):
        r = api(users["leader_s1"]).get(URL, {"area": "S1", "month": "2026-11"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["month"] == "2026-11" and body["area"]["code"] == "S1"
    # (which greens are drawn, and on which days, is keyed by SECRET_KEY, which differs per checkout: find the red)
    first = next(r for r in body["results"] if r["subject"] == red.pk)
    assert first == {**first, "color": "red", "rule": "red_reinspect", "due_date": "2026-11-02"}
    assert set(first) >= {"subject_name", "grid", "rule_label", "reason", "related_subject"}
    assert body["summary"]["by_rule"]["green_spot_check"] == 2
    assert body["count"] == len(body["results"]) == 4
    # Paginated like every list.
    assert api(users["leader_s1"]).get(URL, {"area": "S1", "month": "2026-11", "page_size": 1}).json()["next"]


@pytest.mark.parametrize("who,params,status", [
    ("leader_s1", {"area": "S2", "month": "2026-11"}, 404),
    ("leader_s2", {"area": "S1", "month": "2026-11"}, 404),
    ("leader_s1", {"area": "NOPE", "month": "2026-11"}, 404),
    ("officer_s1", {"area": "S1", "month": "2026-11"}, 403),
    ("leader_s1", {"month": "2026-11"}, 400),
    ("leader_s1", {"area": "S1", "month": "2026-13"}, 400),
    ("leader_s1", {"area": "S1", "month": "x" * 5000}, 400),
    ("leader_s1", {"area": "S1", "month": "2026-11", "page": "abc"}, 404),
    (None, {"area": "S1", "month": "2026-11"}, 403),  # anonymous (session auth first: 403, as everywhere here)
])
def test_api_refusals(users, api, who, params, status):
    r = api(users.get(who)).get(URL, params)
    assert r.status_code == status, r.content
    assert r["Content-Type"].startswith("application/json")


def test_api_platform_client_and_bureau_read(users, api, district):
    for who in ("platform", "bureau", "dispatcher"):
        assert api(users[who]).get(URL, {"area": "S2"}).status_code == 200  # month defaults to this one


# --- the rules --------------------------------------------------------------------------------------

RULES = "/api/v1/credit/effort-rules/"


def test_default_rules_are_installed_by_the_migration(db):
    rules = {r.color: r for r in EffortRule.objects.all()}
    assert (rules["red"].reinspect_every_days, rules["red"].neighbour_radius_m) == (15, 50)
    assert (rules["yellow"].patrols_per_month, rules["yellow"].lookback_days) == (1, 15)
    assert rules["green"].spot_check_percent == 10


def test_rules_api_read_and_bureau_edit_audited(users, api):
    r = api(users["leader_s1"]).get(RULES)
    assert r.status_code == 200 and [x["color"] for x in r.json()] == ["red", "yellow", "green"]
    r = api(users["bureau"]).patch(RULES + "green/", {"spot_check_percent": 5, "note": "柯桥经验：检查频次减半"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["spot_check_percent"] == 5 and r.json()["updated_by"] == "bureau"
    log = AuditLog.objects.get(action="credit.effort_rule_updated")
    assert log.changes["spot_check_percent"] == [10.0, 5.0] and log.actor == users["bureau"]
    assert api(users["leader_s1"]).get(RULES + "green/").json()["spot_check_percent"] == 5


@pytest.mark.parametrize("who,color,body,status,field", [
    ("leader_s1", "green", {"spot_check_percent": 5}, 403, None),
    ("bureau_s1", "green", {"spot_check_percent": 5}, 403, None),  # bureau staff of one street only
    ("platform", "green", {"spot_check_percent": 5}, 403, None),
    ("bureau", "blue", {"spot_check_percent": 5}, 404, None),
    ("bureau", "green", {"spot_check_percent": 101}, 400, "spot_check_percent"),
    ("bureau", "green", {"spot_check_percent": "many"}, 400, "spot_check_percent"),
    ("bureau", "green", {"reinspect_every_days": 3}, 400, "reinspect_every_days"),  # not a green rule's field
    ("bureau", "red", {"reinspect_every_days": 0}, 400, "reinspect_every_days"),
    ("bureau", "red", {"reinspect_every_days": None}, 400, "reinspect_every_days"),
    ("bureau", "red", {"neighbour_radius_m": 1.5}, 400, "neighbour_radius_m"),
    ("bureau", "yellow", {"lookback_days": 10 ** 20}, 400, "lookback_days"),
])
def test_rules_api_refusals_change_nothing(users, api, who, color, body, status, field):
    r = api(users[who]).patch(RULES + color + "/", body, format="json")
    assert r.status_code == status, r.content
    if field:
        assert field in r.json()
    assert EffortRule.objects.get(color="green").spot_check_percent == 10
    assert EffortRule.objects.get(color="red").reinspect_every_days == 15
    assert not AuditLog.objects.filter(action="credit.effort_rule_updated").exists()


# --- the admin page -----------------------------------------------------------------------------

def test_admin_edits_go_through_the_service(users, client):
    rule = EffortRule.objects.get(color="red")
    url = f"/admin/credit/effortrule/{rule.pk}/change/"
    client.force_login(users["bureau"])
    page = client.get(url)
    assert page.status_code == 200 and "reinspect_every_days" in page.content.decode()
    assert "spot_check_percent" not in page.content.decode()  # a green rule's field
    r = client.post(url, {"reinspect_every_days": "0", "neighbour_radius_m": "50", "note": ""})
    assert r.status_code == 200 and r.context["adminform"].form.errors  # refused: a form error, nothing saved
    r = client.post(url, {"reinspect_every_days": "7", "neighbour_radius_m": "80", "neighbour_same_grid": "on", "note": "严管"})
    assert r.status_code == 302
    rule.refresh_from_db()
    assert (rule.reinspect_every_days, rule.neighbour_radius_m, rule.neighbour_same_grid, rule.updated_by) == (
        7, 80, True, users["bureau"])
    assert AuditLog.objects.get(action="credit.effort_rule_updated").changes["reinspect_every_days"] == [15, 7]
    assert client.get("/admin/credit/effortrule/add/").status_code == 403
    client.force_login(users["bureau_s1"])  # bureau staff of one street: may look, not change
    assert client.post(url, {"reinspect_every_days": "3", "neighbour_radius_m": "50"}).status_code == 403


def test_red_without_history_counts_from_when_it_was_scored(district, categories, users):
    """A red colour with no history row (e.g. set before history was kept) counts from its last scoring."""
    s = Subject.objects.create(name="老红店", category=categories["restaurant"], lat=30.25, lng=120.25, grid=district["S1G1"])
    CreditScore.objects.create(subject=s, color="red", computed_color="red", score=30, computed_at=at(2026, 10, 20))
    items, _ = due(users["leader_s1"], district["S1"])
    assert rows_of(items, "red_reinspect") == [(s.pk, date(2026, 11, 4)), (s.pk, date(2026, 11, 19))]
