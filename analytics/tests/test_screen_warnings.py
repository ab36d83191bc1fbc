"""Hot-area warnings on the big screen (/command/screen/): the page asks the warnings API for the open ones
of its user's areas (with their grids' boundaries, which its map hatches), shows the legend's hatching and a
list of them; another street's leader gets none of them, from the API or the socket."""
import re

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from django.db import connections
from django.urls import reverse

from analytics import services
from analytics.testing import warning_in
from command_center.tests.test_consumers import connect_ok, drain

MAP_LIST = "/api/v1/warnings/?open=1&boundary=1"


@pytest.fixture
def open_warnings(district):
    """S1: one raised, one expired (over); S2: one acknowledged."""
    s1 = warning_in(district, "S1G1")
    s2 = warning_in(district, "S2G1", code="YYCB", name="餐饮油烟", count=7, status="acknowledged")
    warning_in(district, "S1G2", status="expired")
    return s1, s2


@pytest.mark.django_db
def test_the_screens_list_has_the_open_warnings_of_the_askers_areas_with_boundaries(api, users, open_warnings):
    s1, s2 = open_warnings
    everything = api(users["dispatcher"]).get(MAP_LIST).json()["results"]
    expected = sorted([(s1.pk, "raised"), (s2.pk, "acknowledged")], reverse=True)  # newest first
    assert [(w["id"], w["status"]) for w in everything] == expected
    assert all(w["boundary"]["type"] == "Polygon" for w in everything)
    assert {w["grid_name"] for w in everything} == {s1.grid.name, s2.grid.name}
    assert [w["id"] for w in api(users["leader_s1"]).get(MAP_LIST).json()["results"]] == [s1.pk]
    assert [w["id"] for w in api(users["leader_s2"]).get(MAP_LIST).json()["results"]] == [s2.pk]
    # Without ?boundary=1 the list stays as it was: no geometry.
    assert "boundary" not in api(users["dispatcher"]).get("/api/v1/warnings/?open=1").json()["results"][0]


@pytest.mark.django_db
def test_the_screens_list_refusals(api, users, open_warnings):
    assert api(users["officer_s1"]).get(MAP_LIST).status_code == 403
    assert api().get(MAP_LIST).status_code in (401, 403)


@pytest.mark.django_db
def test_the_screen_page_asks_for_the_warnings_and_shows_their_legend_and_list(client, users, open_warnings):
    client.force_login(users["leader_s1"])
    html = client.get(reverse("command-screen")).content.decode()
    [url] = re.findall(r'id="cc-warning-words" hidden data-url="([^"]+)"', html)
    assert url.replace("&amp;", "&") == MAP_LIST
    assert 'id="cc-warnings"' not in html  # no data written in: the page asks, and asks again after a gap
    assert 'class="lg hatch"' in html and "热点预警网格（斜线填充，标注问题与数量）" in html
    assert re.search(r'<table id="cc-warning-list"[^>]*aria-labelledby="cc-warning-title"', html)
    assert "窗口内起数" in html and "已确认" in html and "未确认" in html
    # The desk keeps its warnings written into the page (and the same words).
    desk = client.get(reverse("command-dashboard")).content.decode()
    assert 'id="cc-warnings"' in desk and 'id="cc-warning-words"' in desk


@pytest.mark.django_db
def test_the_screen_in_english(client, users, district, settings):
    client.force_login(users["dispatcher"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("command-screen")).content.decode()
    assert "Open hot-area warnings" in html and "Count in window" in html
    assert 'data-acknowledged-state="Acknowledged"' in html and 'data-raised-state="Not acknowledged"' in html
    assert "热点预警" not in html


@pytest_asyncio.fixture
async def closing_worker_connections():
    """The worker thread's connection must not outlive the test (PostgreSQL could not drop the database)."""
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_leader_of_s2_gets_no_push_of_an_s1_warning(users, district, closing_worker_connections):
    """The screen's socket is the desk's (/ws/command/): a warning goes to its street's stream only."""
    s2, _ = await connect_ok(users["leader_s2"])
    s1, _ = await connect_ok(users["leader_s1"])
    warning = await database_sync_to_async(warning_in)(district, "S1G1")
    await database_sync_to_async(services.acknowledge_warning)(users["leader_s1"], warning, note="已安排巡查")
    got = await s1.receive_json_from(timeout=3)
    assert got["type"] == "warning.acknowledged" and got["warning"]["id"] == warning.pk
    assert got["stream"] == f"cc.street.{district['S1'].pk}"
    assert await drain(s2) == []
    other = await database_sync_to_async(warning_in)(district, "S2G1", code="YYCB", name="餐饮油烟")
    await database_sync_to_async(services.acknowledge_warning)(users["leader_s2"], other, note="")
    assert (await s2.receive_json_from(timeout=3))["warning"]["id"] == other.pk
    assert await drain(s1) == []
    await s1.disconnect()
    await s2.disconnect()


def test_the_screens_warning_colours_pass_wcag_aa():
    """As written in static/css/dashboard_warnings.css: the dark map's hatching 3:1 (non-text) against the
    map and the legend, the list's words 4.5:1 on the panel, the label's on white."""
    from pathlib import Path

    from django.conf import settings

    from core.tests.test_front_end import contrast

    css = (Path(settings.BASE_DIR) / "static/css/dashboard_warnings.css").read_text()
    [hatch] = re.findall(r"\.theme-dark \.lg\.hatch rect \{ stroke: (#[0-9a-f]{6}); \}", css)
    assert contrast(hatch, "#0f1b2d") >= 3 and contrast(hatch, "#12294f") >= 3
    for colour in re.findall(r"\.cc-warning-list[^{]*\{[^}]*?[^-]color: (#[0-9a-f]{6})", css):
        assert contrast(colour, "#12294f") >= 4.5, colour
    [label] = re.findall(r"\.leaflet-tooltip\.cc-warning-label \{ background: #fff; color: (#[0-9a-f]{6})", css)
    assert contrast(label, "#ffffff") >= 4.5
