"""Routing by the power list: the street's team when it holds the matter, else the district department."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import NotFound, ValidationFailed
from grids.testing import *  # noqa: F403
from enforcement import routing, selectors
from enforcement.services import catalog as catalog_services
from enforcement.models import RoutingRevision
from enforcement.testing import D0, D1, D2, held_delegation, matter

pytestmark = pytest.mark.django_db

IN_S1 = (30.2, 120.2)   # S1G1
IN_S2 = (30.7, 121.7)   # S2G2


def test_delegated_goes_to_the_street_team(catalog, teams):
    d = selectors.route("ZDJY", *IN_S1, on=D0)
    assert d.delegated is True and d.team.code == "T-S1" and d.department is None
    assert (d.matter_code, d.street_code, d.grid_code, d.severity) == ("SR-001", "S1", "S1G1", "yellow")
    assert d.owner_department.code == "ZHZF"
    assert "街道1" in d.reason and "T-S1" not in d.reason and "S1综合行政执法队" in d.reason


def test_not_delegated_goes_to_the_department(catalog, teams):
    d = selectors.route("WFJS", *IN_S1, on=D0)
    assert d.delegated is False and d.team is None and d.department.code == "ZHZF"
    assert d.severity == "orange" and "未承接" in d.reason


def test_delegation_dates_decide(catalog, teams):
    assert selectors.route("ZDJY", *IN_S2, on=D1 - timedelta(days=1)).delegated is False
    assert selectors.route("ZDJY", *IN_S2, on=D1).team.code == "T-S2"
    assert selectors.route("ZDJY", *IN_S2, on=D2 + timedelta(days=1)).department.code == "ZHZF"


def test_revocation_reroutes_at_once(catalog, teams, district, users):
    today = timezone.localdate()
    assert selectors.route("WZJY", *IN_S1, on=today).delegated is True   # warms the cache
    catalog_services.revoke_delegation(users["bureau"], held_delegation(catalog, "SC-001", district["S1"]), reason="收回")
    d = selectors.route("WZJY", *IN_S1, on=today)
    assert d.delegated is False and d.department.code == "SCJG"


def test_street_without_team_falls_back_to_the_department(catalog, district):
    from grids.models import Officer, Team

    Officer.objects.filter(team__street=district["S1"]).delete()
    Team.objects.filter(street=district["S1"]).delete()
    d = selectors.route("ZDJY", *IN_S1, on=D0)
    assert d.delegated is False and d.department.code == "ZHZF" and "未设综合行政执法队" in d.reason


def test_repealed_matter_goes_to_the_department(catalog, teams, users):
    draft = catalog_services.open_draft(users["bureau"])
    catalog_services.update_matter(users["bureau"], matter(draft, "SR-001"), status="repealed")
    catalog_services.publish_draft(users["bureau"])
    d = selectors.route("ZDJY", *IN_S1, on=D0)
    assert d.delegated is False and "已废止" in d.reason and d.catalog_version == 2


def test_errors(catalog):
    with pytest.raises(ValidationFailed) as exc:
        selectors.route("NOPE", "abc", None)
    assert set(exc.value.fields) == {"problem_type", "lat", "lng"}
    with pytest.raises(NotFound):
        selectors.route("ZDJY", 10.0, 10.0)


def test_route_in_street(catalog, teams, district):
    assert selectors.route_in_street("ZDJY", district["S1"], on=D0).team.code == "T-S1"
    assert selectors.route_in_street("ZDJY", "S2", on=D0).delegated is False
    with pytest.raises(ValidationFailed):
        selectors.route_in_street("ZDJY", "S1G1", on=D0)


def test_other_processes_notice_changes_through_the_stamp(catalog, teams, settings):
    settings.CATALOG_CACHE_CHECK_SECONDS = 0
    snap = routing.get_snapshot()
    assert routing.get_snapshot() is snap                      # nothing changed: same snapshot
    RoutingRevision.objects.filter(pk=1).update(n=999)         # another process published something
    assert routing.get_snapshot() is not snap


def test_cache_is_per_day(catalog, teams):
    snap = routing.get_snapshot()
    selectors.route("ZDJY", *IN_S2, on=D1)
    selectors.route("ZDJY", *IN_S2, on=D0)
    assert set(snap._held) == {D0, D1}


# --- API ---------------------------------------------------------------------------------------

def test_routing_api(catalog, teams, users, api):
    r = api(users["platform"]).get("/api/v1/routing/", {"problem_type": "ZDJY", "lat": IN_S1[0], "lng": IN_S1[1],
                                                       "on": D0.isoformat()})
    assert r.status_code == 200, r.content
    body = r.json()
    assert {k: body[k] for k in ("matter_code", "street_code", "delegated", "severity")} == {
        "matter_code": "SR-001", "street_code": "S1", "delegated": True, "severity": "yellow"}
    assert body["team"]["code"] == "T-S1" and body["department"] is None and body["reason"]
    r = api(users["platform"]).get("/api/v1/routing/", {"problem_type": "WFJS", "lat": IN_S1[0], "lng": IN_S1[1]})
    assert r.json()["team"] is None and r.json()["department"]["code"] == "ZHZF"


@pytest.mark.parametrize("params,status,field", [
    ({"problem_type": "NOPE", "lat": 30.2, "lng": 120.2}, 400, "problem_type"),
    ({"lat": 30.2, "lng": 120.2}, 400, "problem_type"),
    ({"problem_type": "ZDJY", "lat": "north", "lng": 120.2}, 400, "lat"),
    ({"problem_type": "ZDJY", "lat": 95, "lng": 120.2}, 400, "lat"),
    ({"problem_type": "ZDJY", "lat": 30.2}, 400, "lng"),
    ({"problem_type": "ZDJY", "lat": 30.2, "lng": 120.2, "on": "yesterday"}, 400, "on"),
    ({"problem_type": "ZDJY", "lat": 10, "lng": 10}, 404, None),
])
def test_routing_api_errors(catalog, users, api, params, status, field):
    r = api(users["dispatcher"]).get("/api/v1/routing/", params)
    assert r.status_code == status, r.content
    if field:
        assert field in r.json()
    else:
        assert r.json()["code"] == "outside_district"


def test_routing_without_a_catalog_is_422(district, users, api):
    r = api(users["dispatcher"]).get("/api/v1/routing/", {"problem_type": "ZDJY", "lat": 30.2, "lng": 120.2})
    assert r.status_code == 422


def test_routing_api_needs_login(catalog, api):
    assert api().get("/api/v1/routing/", {"problem_type": "ZDJY", "lat": 30.2, "lng": 120.2}).status_code in (401, 403)
