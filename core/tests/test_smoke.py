import pytest


@pytest.mark.django_db
def test_locate_chain(district, users, api):
    r = api(users["dispatcher"]).get("/api/v1/grids/locate/", {"lat": 30.2, "lng": 120.2})
    assert r.status_code == 200, r.content
    assert [a["code"] for a in r.json()["areas"]] == ["S1G1M1", "S1G1", "S1C1", "S1", "D"]
