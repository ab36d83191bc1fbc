"""GET /api/v1/grids/locate/ and the in-memory spatial index behind it."""
import pytest
from django.utils import timezone

from grids.testing import square
from grids import selectors, services, spatial
from grids.models import Area

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db
URL = "/api/v1/grids/locate/"


def chain(client, lat, lng):
    r = client.get(URL, {"lat": lat, "lng": lng})
    assert r.status_code == 200, r.content
    return [a["code"] for a in r.json()["areas"]]


def test_chain_smallest_first(users, api, district):
    client = api(users["officer_s1"])
    r = client.get(URL, {"lat": 30.7, "lng": 121.8})
    assert r.status_code == 200
    areas = r.json()["areas"]
    assert [a["code"] for a in areas] == ["S2G2M2", "S2G2", "S2C1", "S2", "D"]
    assert areas[0] == {"id": district["S2G2M2"].pk, "code": "S2G2M2", "name": "微网格2-2-2", "kind": "micro_grid"}
    assert [a["kind"] for a in areas] == ["micro_grid", "grid", "community", "street", "district"]


def test_point_in_grid_without_micro_grids_gives_grid_first(users, api, district):
    # A third community with one grid and no micro-grids, carved out of the district's empty north.
    d = services.update_area(None, district["district"], boundary=square(120.0, 30.0, 122.0, 32.0))
    s3 = services.create_area(None, code="S3", name="街道3", kind="street", parent=d,
                              boundary=square(120.0, 31.0, 122.0, 32.0))
    c3 = services.create_area(None, code="S3C1", name="社区3", kind="community", parent=s3,
                              boundary=square(120.0, 31.0, 122.0, 32.0))
    services.create_area(None, code="S3G1", name="网格3-1", kind="grid", parent=c3,
                         boundary=square(120.0, 31.0, 121.0, 32.0))
    client = api(users["dispatcher"])
    assert chain(client, 31.5, 120.5) == ["S3G1", "S3C1", "S3", "D"]
    # In the community but in no grid: the community comes first.
    assert chain(client, 31.5, 121.5) == ["S3C1", "S3", "D"]


def test_point_on_shared_edge_is_found(users, api):
    codes = chain(api(users["dispatcher"]), 30.5, 120.5)  # the corner four micro-grids share
    assert codes[-3:] == ["S1C1", "S1", "D"] and codes[0].startswith("S1G")


@pytest.mark.parametrize("lat,lng", [(29.0, 120.5), (30.5, 125.0), (0, 0), (-89.9, -179.9)])
def test_outside_the_district_is_404_json(users, api, lat, lng):
    r = api(users["dispatcher"]).get(URL, {"lat": lat, "lng": lng})
    assert r.status_code == 404
    assert r.json()["code"] == "outside_district" and r.json()["detail"]


@pytest.mark.parametrize("params,fields", [
    ({}, {"lat", "lng"}),
    ({"lat": 30.2}, {"lng"}),
    ({"lng": 120.2}, {"lat"}),
    ({"lat": "abc", "lng": 120.2}, {"lat"}),
    ({"lat": 30.2, "lng": ""}, {"lng"}),
    ({"lat": 91, "lng": 120.2}, {"lat"}),
    ({"lat": 30.2, "lng": -180.5}, {"lng"}),
    ({"lat": "nan", "lng": "inf"}, {"lat", "lng"}),
    ({"lat": "1e999", "lng": 120}, {"lat"}),
])
def test_bad_coordinates_are_400_with_field_messages(users, api, params, fields):
    r = api(users["dispatcher"]).get(URL, params)
    assert r.status_code == 400
    body = r.json()
    assert set(body) == fields
    assert all(isinstance(body[f], list) and body[f][0] for f in fields)


def test_index_follows_a_boundary_change_made_through_the_service(users, api, district, django_capture_on_commit_callbacks):
    client = api(users["dispatcher"])
    assert chain(client, 30.2, 120.2)[0] == "S1G1M1"
    # Shrink micro-grid S1G1M1 to its western half: the eastern half falls back to the grid.
    with django_capture_on_commit_callbacks(execute=True):
        services.update_area(None, district["S1G1M1"], boundary=square(120.0, 30.0, 120.25, 30.5))
    assert chain(client, 30.2, 120.4)[0] == "S1G1"
    assert chain(client, 30.2, 120.1)[0] == "S1G1M1"


def test_index_follows_changes_made_by_another_process(users, api, district, settings):
    """Another process's write reaches this process's index within AREA_INDEX_CHECK_SECONDS."""
    client = api(users["dispatcher"])
    settings.AREA_INDEX_CHECK_SECONDS = 3600
    assert chain(client, 30.2, 120.4)[0] == "S1G1M1"
    # Another process (no signal, no on_commit here, not even updated_at) changes the boundary.
    Area.objects.filter(pk=district["S1G1M1"].pk).update(boundary=square(120.0, 30.0, 120.25, 30.5))
    assert chain(client, 30.2, 120.4)[0] == "S1G1M1"  # still trusting its index
    settings.AREA_INDEX_CHECK_SECONDS = 0
    assert chain(client, 30.2, 120.4)[0] == "S1G1"


def test_index_sees_other_process_writes_even_with_an_older_timestamp(users, api, district, settings):
    """A transaction that committed late carries an updated_at older than the newest one already seen."""
    settings.AREA_INDEX_CHECK_SECONDS = 0
    client = api(users["dispatcher"])
    before = timezone.now()
    Area.objects.filter(pk=district["S2G2"].pk).update(updated_at=timezone.now())  # the newest stamp
    assert chain(client, 30.2, 120.4)[0] == "S1G1M1"
    Area.objects.filter(pk=district["S1G1M1"].pk).update(boundary=square(120.0, 30.0, 120.25, 30.5), updated_at=before)
    assert chain(client, 30.2, 120.4)[0] == "S1G1"  # the database's trigger bumped the counter


def test_index_sees_areas_added_and_removed_without_signals(users, api, district, settings):
    settings.AREA_INDEX_CHECK_SECONDS = 0
    client = api(users["dispatcher"])
    assert chain(client, 30.2, 120.2)[0] == "S1G1M1"
    # Another process removes a micro-grid with plain SQL (no signal, no counter bump): the count tells.
    Area.objects.filter(pk=district["S1G1M1"].pk)._raw_delete("default")
    assert chain(client, 30.2, 120.2)[0] == "S1G1"
    # …and bulk-creates one (bulk_create sends no signal either).
    g = district["S1G1"]
    Area.objects.bulk_create([Area(code="NEW", name="新", kind="micro_grid", parent=g, path=g.path + "999/",
                                   boundary=square(120.0, 30.0, 120.5, 30.5))])
    assert chain(client, 30.2, 120.2)[0] == "NEW"


def test_area_writes_bump_the_shared_counter(district):
    from grids.models import AreaIndexVersion

    def version():
        return AreaIndexVersion.objects.get(pk=1).n

    before = version()
    services.update_area(None, district["S1"], name="新名字")
    assert version() > before
    before = version()
    Area.objects.filter(pk=district["S1"].pk).update(name="又改")  # no signal: the trigger
    assert version() > before
    before = version()
    Area.objects.filter(pk=district["S1"].pk).update(path=district["S1"].path)  # paths don't matter to the index
    assert version() == before


def test_index_is_reused_between_lookups(district, settings, django_assert_num_queries):
    settings.AREA_INDEX_CHECK_SECONDS = 3600
    selectors.locate(30.2, 120.2)
    with django_assert_num_queries(0):
        for _ in range(50):
            selectors.locate(30.2, 120.2)


def test_grid_at_skips_micro_grids(district):
    assert selectors.grid_at(30.7, 120.7) == district["S1G2"]
    assert selectors.grid_at(35.0, 120.7) is None


def test_street_of(district):
    index = spatial.get_index()
    ref = index.smallest_containing(30.7, 121.7)
    assert index.street_of(ref).code == "S2"
    assert selectors.street_of(district["S2G2M1"]) == district["S2"]
    assert selectors.street_of(district["S2"]) == district["S2"]
    assert selectors.street_of(district["district"]) is None
