"""The ranking (榜单, "大综点评"): staff page scoped by areas with trend arrows, and the public page
without personal data."""
from datetime import timedelta

import re

import pytest
from django.utils import timezone

from credit import display
from credit.models import CreditHistory, CreditScore
from grids.models import Subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(district, categories):
    now = timezone.now()

    def make(name, color, score, grid="S1G1", lng=120.25, category="restaurant", history=()):
        s = Subject.objects.create(name=name, category=categories[category], lat=30.25, lng=lng, grid=district[grid],
                                   legal_representative=f"{name}老板", contact_phone="13912345678",
                                   licence_no=f"LIC-{name}")
        CreditScore.objects.create(subject=s, color=color, computed_color=color, score=score, computed_at=now)
        for days_ago, from_color, to_color in history:
            CreditHistory.objects.create(subject=s, from_color=from_color, to_color=to_color, score=score,
                                         changed_at=now - timedelta(days=days_ago), cause="fact_posted")
        return s

    return {
        # Red 40 days ago, green since 10 days ago: better than 30 days ago.
        "better": make("转好店", "green", 2, history=[(40, "green", "red"), (10, "red", "green")]),
        # Green until 5 days ago: worse.
        "worse": make("变差店", "red", 35, grid="S1G2", lng=120.75, history=[(5, "green", "red")]),
        "same": make("平稳店", "yellow", 20, history=[(100, "green", "yellow")]),
        "site": make("工地", "green", 0, category="building_site"),
        "s2": make("S2店", "green", 1, grid="S2G1", lng=121.25),
    }


def test_colour_then_from_history(shops):
    when = timezone.now() - timedelta(days=30)
    then = display.color_on([s.pk for s in shops.values()], when)
    assert then[shops["better"].pk] == "red"  # the change 40 days ago led to red
    assert then[shops["worse"].pk] == "green"  # the first change after then started from green
    assert then[shops["same"].pk] == "yellow"
    assert then[shops["site"].pk] is None  # never changed
    assert display.trend("green", "red") == "better" and display.trend("red", "green") == "worse"
    assert display.trend("green", None) == "same"


def test_staff_ranking_orders_by_score_with_trends(shops, users, client, district, django_assert_max_num_queries):
    client.force_login(users["leader_s1"])
    with django_assert_max_num_queries(16):  # (the header's review count: one query more per source)
        r = client.get("/credit/ranking/", {"order": "best"})
    assert r.status_code == 200
    page = r.context["page"]
    assert [s.name for s in page] == ["工地", "转好店", "平稳店", "变差店"]  # S2's shop is not theirs
    assert [s.rank for s in page] == [1, 2, 3, 4]
    assert {s.name: s.trend for s in page} == {"工地": "same", "转好店": "better", "平稳店": "same", "变差店": "worse"}
    body = r.content.decode()
    assert "↑" in body and "↓" in body and "13912345678" in body  # team leaders see phones
    # The page opens worst first; the order select says so.
    r = client.get("/credit/ranking/")
    assert [s.name for s in r.context["page"]] == ["变差店", "平稳店", "转好店", "工地"]
    assert re.search(r'<select name="order"[^>]*>\s*<option value="worst"', r.content.decode())
    assert '<label for="id_area">' in r.content.decode() and "<optgroup" in r.content.decode()
    # Worst first, one category, one area.
    r = client.get("/credit/ranking/", {"order": "worst", "category": "FOOD"})
    assert [s.name for s in r.context["page"]] == ["变差店", "平稳店", "转好店"]
    r = client.get("/credit/ranking/", {"area": district["S1G2"].pk})
    assert [s.name for s in r.context["page"]] == ["变差店"]
    # Trend against 7 days ago: the shop that turned green 10 days ago is steady now.
    r = client.get("/credit/ranking/", {"days": "7"})
    assert {s.name: s.trend for s in r.context["page"]}["转好店"] == "same"


def test_staff_ranking_masks_phones_for_officers_and_paginates(shops, users, client, district, categories):
    client.force_login(users["officer_s1"])
    body = client.get("/credit/ranking/").content.decode()
    assert "13912345678" not in body and "139****5678" in body
    for i in range(60):
        s = Subject.objects.create(name=f"店{i}", category=categories["restaurant"], lat=30.25, lng=120.25, grid=district["S1G1"])
        CreditScore.objects.create(subject=s, color="green", computed_color="green", score=5, computed_at=timezone.now())
    r = client.get("/credit/ranking/", {"page": 2})
    assert r.context["page"].number == 2 and r.context["page"][0].rank == 51


@pytest.mark.parametrize("params", [{"area": "abc"}, {"area": "999999999"}, {"category": "NOPE"}, {"order": "up"},
                                    {"days": "1000"}, {"page": "x"}])
def test_staff_ranking_bad_filters_are_form_errors(shops, users, client, params):
    client.force_login(users["leader_s1"])
    r = client.get("/credit/ranking/", params)
    assert r.status_code == 200
    if "page" not in params:
        assert r.context["form"].errors and list(r.context["page"]) == []


def test_staff_ranking_refusals(shops, users, client, district):
    # Another street's area is not a choice: a form error, nothing shown.
    client.force_login(users["leader_s1"])
    r = client.get("/credit/ranking/", {"area": district["S2"].pk})
    assert r.context["form"].errors and "S2店" not in r.content.decode()
    client.force_login(users["platform"])
    assert client.get("/credit/ranking/").status_code == 403
    client.logout()
    assert client.get("/credit/ranking/").status_code == 302


def test_public_ranking_needs_no_login_and_shows_no_personal_data(shops, client):
    r = client.get("/credit/ranking/public/")
    assert r.status_code == 200
    rows = r.context["rows"]
    assert [row["name"] for row in rows] == ["工地", "S2店", "转好店", "平稳店", "变差店"]
    assert set(rows[0]) == {"rank", "name", "category", "street", "color", "trend"}
    assert {row["name"]: row["street"] for row in rows}["S2店"] == "街道2"
    body = r.content.decode()
    for private in ("老板", "13912345678", "139****5678", "LIC-"):
        assert private not in body
    r = client.get("/credit/ranking/public/", {"street": "S2"})
    assert [row["name"] for row in r.context["rows"]] == ["S2店"]
    r = client.get("/credit/ranking/public/", {"street": "S1", "order": "worst", "category": "FOOD"})
    assert [row["name"] for row in r.context["rows"]] == ["变差店", "平稳店", "转好店"]
    assert [row["trend"] for row in r.context["rows"]] == ["worse", "same", "better"]


@pytest.mark.parametrize("params", [{"street": "S1G1"}, {"street": "NOPE"}, {"category": "x" * 500}, {"days": "-1"}])
def test_public_ranking_bad_filters(shops, client, params):
    r = client.get("/credit/ranking/public/", params)
    assert r.status_code == 200 and r.context["form"].errors and r.context["rows"] == []


def test_public_ranking_can_be_switched_off(shops, client, settings):
    settings.CREDIT_PUBLIC_RANKING = False
    assert client.get("/credit/ranking/public/").status_code == 404


def test_nav_links_to_the_ranking(users, client):
    client.force_login(users["leader_s1"])
    assert 'href="/credit/ranking/"' in client.get("/").content.decode()


def test_staff_ranking_says_why(district, categories, users, client, django_capture_on_commit_callbacks):
    """The reasons behind the score, from the real ledger: a team leader can say why a shop is red."""
    from credit.services import facts

    s = Subject.objects.create(name="油烟店", category=categories["restaurant"], lat=30.25, lng=120.25, grid=district["S1G1"])
    with django_capture_on_commit_callbacks(execute=True):
        facts.post_fact(s, "violation", source_app="enforcement", source_model="case", source_pk=1, points=30)
        facts.post_fact(s, "complaint", source_app="command_center", source_model="event", source_pk=9,
                        confirmed=True)
    client.force_login(users["leader_s1"])
    r = client.get("/credit/ranking/")
    (row,) = r.context["page"]
    assert row.credit_score.color == "red"
    assert row.reason_lines == ["投诉 3 (1)", "违法处罚 30 (1)"]
    assert "违法处罚 30 (1)" in r.content.decode()
