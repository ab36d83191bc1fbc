"""/api/v1/areas/: filters, ordering, scoping, the detail's boundary, the GeoJSON layer endpoint."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grids.testing import square
from grids import services

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db


def codes(response):
    assert response.status_code == 200, response.content
    return [a["code"] for a in response.json()["results"]]


def test_list_shape_without_boundaries(users, api):
    r = api(users["bureau"]).get("/api/v1/areas/")
    row = r.json()["results"][1]
    assert row == {"id": row["id"], "code": "S1", "name": "街道1", "kind": "street", "parent": row["parent"],
                   "parent_code": "D", "tier": "urban", "zone": None, "zone_code": None}


def test_list_does_not_load_boundaries(users, api):
    with CaptureQueriesContext(connection) as ctx:
        api(users["bureau"]).get("/api/v1/areas/")
    assert not any("boundary" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.parametrize("params,expected", [
    ({"kind": "street"}, ["S1", "S2"]),
    ({"kind": "micro_grid", "code": "S2G1M2"}, ["S2G1M2"]),
    ({"code": "S1G2"}, ["S1G2"]),
    ({"code": "nope"}, []),
    ({"tier": "general"}, ["S2"]),
    ({"kind": "grid", "ordering": "-code"}, ["S2G2", "S2G1", "S1G2", "S1G1"]),
    ({"kind": "grid", "search": "网格2-"}, ["S2G1", "S2G2"]),
])
def test_filters_and_ordering(users, api, params, expected):
    assert codes(api(users["bureau"]).get("/api/v1/areas/", params)) == expected


def test_filter_by_parent(users, api, district):
    r = api(users["bureau"]).get("/api/v1/areas/", {"parent": district["S1G1"].pk})
    assert codes(r) == ["S1G1M1", "S1G1M2"]


def test_ordering_by_name(users, api):
    r = api(users["bureau"]).get("/api/v1/areas/", {"kind": "street", "ordering": "-name"})
    assert codes(r) == ["S2", "S1"]


@pytest.mark.parametrize("params", [{"kind": "planet"}, {"parent": "abc"}])
def test_bad_filter_values_are_400(users, api, params):
    r = api(users["bureau"]).get("/api/v1/areas/", params)
    assert r.status_code == 400
    assert list(r.json()) == list(params)


def test_street_user_sees_own_subtree_and_ancestors(users, api, district):
    client = api(users["leader_s1"])
    seen = codes(client.get("/api/v1/areas/", {"page_size": 100}))
    assert seen == ["D", "S1", "S1C1", "S1G1", "S1G1M1", "S1G1M2", "S1G2", "S1G2M1", "S1G2M2"]
    assert client.get(f"/api/v1/areas/{district['S2G1'].pk}/").status_code == 404
    assert client.get(f"/api/v1/areas/{district['S1G1'].pk}/").status_code == 200
    assert client.get("/api/v1/areas/999999/").status_code == 404
    assert client.get("/api/v1/areas/abc/").status_code == 404


def test_micro_grid_user_sees_only_their_branch(users, api):
    seen = codes(api(users["nobody"]).get("/api/v1/areas/"))
    assert seen == ["D", "S2", "S2C1", "S2G2", "S2G2M2"]


def test_detail_carries_boundary_and_bbox(users, api, district):
    r = api(users["dispatcher"]).get(f"/api/v1/areas/{district['S1G1'].pk}/")
    assert r.status_code == 200
    body = r.json()
    assert body["boundary"] == square(120.0, 30.0, 120.5, 31.0)
    assert body["bbox"] == [120.0, 30.0, 120.5, 31.0]
    assert body["parent_code"] == "S1C1"


def test_zone_shown_on_its_grids(users, api, district):
    zone = services.create_area(None, code="S1Z1", name="防区1", kind="zone", parent=district["S1"],
                                boundary=square(120.0, 30.0, 120.5, 31.0))
    services.update_area(None, district["S1G1"], zone=zone)
    client = api(users["bureau"])
    assert codes(client.get("/api/v1/areas/", {"kind": "zone"})) == ["S1Z1"]
    row = client.get(f"/api/v1/areas/{district['S1G1'].pk}/").json()
    assert (row["zone"], row["zone_code"]) == (zone.pk, "S1Z1")


def test_list_query_count_is_bounded(users, api, django_assert_max_num_queries):
    client = api(users["leader_s1"])
    with django_assert_max_num_queries(4):
        r = client.get("/api/v1/areas/", {"page_size": 500})
    assert r.json()["count"] == 9


def test_areas_are_read_only(users, api, district):
    client = api(users["bureau"])
    assert client.post("/api/v1/areas/", {"code": "X", "name": "x", "kind": "grid"}, format="json").status_code == 405
    assert client.delete(f"/api/v1/areas/{district['S1'].pk}/").status_code == 405


# --- GeoJSON layers for the map ---------------------------------------------------------------

def test_geojson_layer(users, api):
    r = api(users["bureau"]).get("/api/v1/areas/geojson/", {"kind": "grid"})
    assert r.status_code == 200
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    assert sorted(f["properties"]["code"] for f in fc["features"]) == ["S1G1", "S1G2", "S2G1", "S2G2"]
    assert fc["features"][0]["geometry"]["type"] == "Polygon"


def test_geojson_bbox_and_scope(users, api):
    r = api(users["bureau"]).get("/api/v1/areas/geojson/", {"kind": "grid", "bbox": "120.6,30.1,120.7,30.2"})
    assert [f["properties"]["code"] for f in r.json()["features"]] == ["S1G2"]
    r = api(users["leader_s2"]).get("/api/v1/areas/geojson/", {"kind": "grid"})
    assert sorted(f["properties"]["code"] for f in r.json()["features"]) == ["S2G1", "S2G2"]


@pytest.mark.parametrize("params,field", [
    ({}, "kind"), ({"kind": "moon"}, "kind"),
    ({"kind": "grid", "bbox": "1,2,3"}, "bbox"), ({"kind": "grid", "bbox": "a,b,c,d"}, "bbox"),
    ({"kind": "grid", "bbox": "3,2,1,4"}, "bbox"), ({"kind": "grid", "bbox": "nan,0,1,1"}, "bbox"),
])
def test_geojson_bad_params(users, api, params, field):
    r = api(users["bureau"]).get("/api/v1/areas/geojson/", params)
    assert r.status_code == 400
    assert field in r.json()
