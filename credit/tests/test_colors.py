"""Colours for the map and dashboards (/api/v1/credit/colors/), the subject list's `?color=` filter,
and the map page wiring them together."""
import pytest
from django.utils import timezone

from core.browser_testing import log_in
from credit.models import CreditScore
from grids.models import Subject

pytestmark = pytest.mark.django_db

URL = "/api/v1/credit/colors/"
S1_BOX = "120.0,30.0,120.99,31.0"


@pytest.fixture
def shops(district, categories):
    def make(name, color, grid="S1G1", lng=120.25, status="active"):
        s = Subject.objects.create(name=name, category=categories["restaurant"], lat=30.25, lng=lng, grid=district[grid],
                                   status=status)
        if color:
            CreditScore.objects.create(subject=s, color=color, computed_color=color, computed_at=timezone.now(),
                                       score={"green": 1, "yellow": 15, "red": 30}[color])
        return s

    return {
        "red": make("红店", "red"), "yellow": make("黄店", "yellow", grid="S1G2", lng=120.75), "green": make("绿店", "green"),
        "new": make("新店", None), "s2_red": make("S2 红店", "red", grid="S2G1", lng=121.25),
        "closed": make("已关店", "red", status="closed"),
    }


def test_colors_in_the_box_scoped_by_area(shops, users, api, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        r = api(users["leader_s1"]).get(URL, {"bbox": "119,29,123,32"})
    assert r.status_code == 200, r.content
    body = r.json()
    # The other street's subject is not there; neither the unscored one (drawn plain) nor the closed one.
    assert body["colors"] == {str(shops["red"].pk): "red", str(shops["yellow"].pk): "yellow", str(shops["green"].pk): "green"}
    assert body["counts"] == {"green": 1, "yellow": 1, "red": 1} and body["truncated"] is False
    body = api(users["dispatcher"]).get(URL, {"bbox": "119,29,123,32"}).json()
    assert body["colors"][str(shops["s2_red"].pk)] == "red"
    # A box: only what is inside.
    assert set(api(users["dispatcher"]).get(URL, {"bbox": "121,30,122,31"}).json()["colors"]) == {str(shops["s2_red"].pk)}


def test_colors_by_ids_for_dashboards(shops, users, api):
    ids = ",".join(str(shops[k].pk) for k in ("red", "s2_red", "new", "closed"))
    body = api(users["leader_s1"]).get(URL, {"ids": ids}).json()
    # Another street's id answers nothing, as if it didn't exist; closed subjects keep their colour.
    assert body["colors"] == {str(shops["red"].pk): "red", str(shops["closed"].pk): "red"}


def test_colors_truncated_beyond_the_limit(shops, users, api, monkeypatch):
    from credit.api.colors import ColorsView

    monkeypatch.setattr(ColorsView, "MAX_ROWS", 2)
    body = api(users["dispatcher"]).get(URL, {"bbox": "119,29,123,32"}).json()
    assert len(body["colors"]) == 2 and body["truncated"] is True


@pytest.mark.parametrize("params,field", [
    ({}, "bbox"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "3,2,1,0"}, "bbox"),
    ({"ids": "1,x"}, "ids"),
    ({"ids": "0"}, "ids"),
    ({"ids": "99999999999999999999"}, "ids"),
    ({"ids": ",".join(str(i) for i in range(1, 1002))}, "ids"),
])
def test_colors_bad_params(users, api, params, field):
    r = api(users["leader_s1"]).get(URL, params)
    assert r.status_code == 400 and field in r.json()


def test_colors_need_login(api, district):
    assert api(None).get(URL, {"bbox": S1_BOX}).status_code in (401, 403)


def test_user_bound_to_a_micro_grid_sees_only_its_subjects(shops, users, api, district, categories):
    inside = Subject.objects.create(name="微网格店", category=categories["restaurant"], lat=30.75, lng=121.75,
                                    grid=district["S2G2"])
    CreditScore.objects.create(subject=inside, color="yellow", computed_color="yellow", computed_at=timezone.now())
    assert api(users["nobody"]).get(URL, {"bbox": "119,29,123,32"}).json()["colors"] == {str(inside.pk): "yellow"}


# --- ?color= on the subject list ------------------------------------------------------------------------

def test_subject_list_filters_by_colour(shops, users, api):
    def ids(who, **params):
        r = api(users[who]).get("/api/v1/subjects/", params)
        assert r.status_code == 200, r.content
        return {row["id"] for row in r.json()["results"]}

    assert ids("dispatcher", color="red") == {shops["red"].pk, shops["s2_red"].pk, shops["closed"].pk}
    assert ids("leader_s1", color="red") == {shops["red"].pk, shops["closed"].pk}  # still scoped
    assert ids("leader_s1", color="yellow") == {shops["yellow"].pk}
    # Every subject starts green: the unscored one is green too.
    assert ids("leader_s1", color="green") == {shops["green"].pk, shops["new"].pk}
    assert ids("leader_s1", color="red", status="active") == {shops["red"].pk}
    r = api(users["leader_s1"]).get("/api/v1/subjects/", {"color": "purple"})
    assert r.status_code == 400 and "color" in r.json()


def test_subject_page_filters_by_colour_too(shops, users, client):
    client.force_login(users["leader_s1"])
    body = client.get("/subjects/", {"color": "red"}).content.decode()
    assert "红店" in body and "黄店" not in body and "S2 红店" not in body
    # The page offers the colour as a dropdown, the chosen one selected.
    assert '<select name="color"' in body and '<option value="red" selected>' in body


def test_colour_filter_is_in_the_schema(users, api):
    r = api(users["dispatcher"]).get("/api/schema/", {"format": "json"})
    params = {p["name"] for p in r.json()["paths"]["/api/v1/subjects/"]["get"]["parameters"]}
    assert "color" in params


# --- the map page -----------------------------------------------------------------------------

def test_map_page_has_the_colour_filter_and_endpoint(users, client):
    client.force_login(users["officer_s1"])
    body = client.get("/map/").content.decode()
    assert 'data-color="red"' in body and 'data-color="none"' in body and URL in body


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_map_colour_filter_in_a_browser(browser_page, live_server, users, categories, settings, district):
    """The map loads the colours beside the points and the colour filter hides markers without a reload."""
    page = browser_page
    settings.MAP_TILE_URL = ""
    for name, color, lat in (("红店", "red", 30.2), ("绿店", "green", 30.4), ("新店", None, 30.6)):
        s = Subject.objects.create(name=name, category=categories["restaurant"], lat=lat, lng=120.2, grid=district["S1G1"])
        if color:
            CreditScore.objects.create(subject=s, color=color, computed_color=color, computed_at=timezone.now())
    log_in(page, live_server.url, "dispatcher")
    colour_requests = []
    page.on("request", lambda r: colour_requests.append(r.url) if "/api/v1/credit/colors/" in r.url else None)
    page.goto(f"{live_server.url}/map/")

    def wait_count(n):
        try:
            page.wait_for_function(f"document.getElementById('map-status').textContent.indexOf('{n} ') === 0", timeout=15000)
        except Exception:
            raise AssertionError((page.inner_text("#map-status"), page.console_errors, page.outside_requests))

    wait_count(3)
    assert colour_requests
    asked = len(colour_requests)
    page.uncheck("input[data-color=red]")
    wait_count(2)
    page.uncheck("input[data-color=none]")
    wait_count(1)
    page.check("input[data-color=red]")
    wait_count(2)
    assert len(colour_requests) == asked  # the filter redraws from what was loaded
    # One palette: the markers' colours (read by the script) are the legend's (the style sheet's), the desk's values.
    credit = page.evaluate("async () => (await import('/static/js/palette.js')).palette().credit")
    assert (credit["red"], credit["yellow"], credit["green"]) == ("#c62828", "#e6c300", "#2e7d32")
    legend = page.evaluate("[...document.querySelectorAll('.swatch')].map((s) => [s.classList[1], getComputedStyle(s).color])")
    assert {name: rgb for name, rgb in legend} == {
        name: "rgb({}, {}, {})".format(*bytes.fromhex(credit[name][1:])) for name in ("red", "yellow", "green", "none")}
    assert not page.console_errors, page.console_errors
    assert not page.outside_requests, page.outside_requests
