"""The offline base map (grids.basemap, /map/basemap.geojson): the demo district's roads, rivers, parks and
landmarks, inside its outline, named like the demo's addresses; signed-in users only."""
from shapely.geometry import shape

from grids import basemap as offline
from grids.demo import ROADS
from grids.demo_geometry import build_district


def test_basemap_lies_in_the_demo_district_and_uses_its_road_names():
    fc = offline.basemap()
    kinds = {f["properties"]["kind"] for f in fc["features"]}
    assert kinds == {"road_major", "road_minor", "river", "park", "landmark"}
    outline = shape(build_district()["district"]["boundary"]).buffer(1e-6)
    for f in fc["features"]:
        assert outline.contains(shape(f["geometry"])), f["properties"]["name"]
        if f["properties"]["kind"].startswith("road"):
            assert f["properties"]["name"] in ROADS
    names = {f["properties"]["name"] for f in fc["features"]}
    assert {"京杭大运河", "拱宸桥", "莫干山路"} <= names
    assert offline.basemap() is fc   # computed once


def test_basemap_endpoint_needs_a_login(client, db):
    r = client.get("/map/basemap.geojson")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_basemap_endpoint_and_the_pages_that_use_it(client, users, settings):
    settings.MAP_TILE_URL = ""
    client.force_login(users["officer_s1"])
    r = client.get("/map/basemap.geojson")
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    assert r.json()["type"] == "FeatureCollection" and "max-age" in r["Cache-Control"]
    assert '"basemapUrl": "/map/basemap.geojson"' in client.get("/map/").content.decode()
    client.force_login(users["dispatcher"])
    for path in ("/command/", "/command/screen/"):
        html = client.get(path).content.decode()
        assert '"basemapUrl": "/map/basemap.geojson"' in html and '"tileUrl": ""' in html
