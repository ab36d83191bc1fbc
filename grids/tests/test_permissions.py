"""Who may read and write what, in one table: a street user reaching into another street gets 404
(existence hidden) on reads and object writes, 403 when the object is visible but not theirs to change
or the role may not write at all. Every row is checked for every role."""
import pytest
from django.utils import timezone

from grids import services

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db

ROLES = ["bureau", "bureau_s1", "dispatcher", "leader_s1", "leader_s2", "officer_s1", "platform", "platform_s2", "nobody"]


@pytest.fixture
def world(district, categories, officers):
    s1 = services.insert_subject(None, name="西", category=categories["restaurant"],
                                 contact_phone="13811112222", lat=30.2, lng=120.2)
    s2 = services.insert_subject(None, name="东", category=categories["restaurant"],
                                 lat=30.2, lng=121.2)
    return {"s1_subject": s1, "s2_subject": s2, "s1_officer": officers["s1"], "s2_officer": officers["s2"],
            "S1": district["S1"], "S2": district["S2"]}


# (description, method, url template, body, {role: expected status}); roles not listed expect `default`.
CASES = [
    ("read S1 subject", "get", "/api/v1/subjects/{s1_subject}/", None,
     dict(default=200, leader_s2=404, platform_s2=404, nobody=404)),
    ("read S2 subject", "get", "/api/v1/subjects/{s2_subject}/", None,
     dict(default=200, bureau_s1=404, leader_s1=404, officer_s1=404, nobody=404)),
    ("edit S1 subject", "patch", "/api/v1/subjects/{s1_subject}/", {"name": "改"},
     dict(default=403, bureau=200, bureau_s1=200, leader_s2=403, platform_s2=403, nobody=403)),
    ("edit S2 subject", "patch", "/api/v1/subjects/{s2_subject}/", {"name": "改"},
     dict(default=403, bureau=200, bureau_s1=404)),
    ("create subject in S2", "post", "/api/v1/subjects/", {"name": "新", "category": "FOOD-R", "lat": 30.3, "lng": 121.3},
     dict(default=403, bureau=201)),
    ("read S1 officer", "get", "/api/v1/officers/{s1_officer}/", None,
     dict(default=200, leader_s2=404, platform_s2=404, nobody=404)),
    ("read S2 officer (nobody's own record)", "get", "/api/v1/officers/{s2_officer}/", None,
     dict(default=200, bureau_s1=404, leader_s1=404, officer_s1=404)),
    ("ping own record from a micro-grid binding", "post", "/api/v1/officers/{s2_officer}/position/", "PING",
     dict(default=403, bureau_s1=404, leader_s1=404, officer_s1=404, dispatcher=201, platform=201, platform_s2=201,
          nobody=201)),
    ("ping S1 officer", "post", "/api/v1/officers/{s1_officer}/position/", "PING",
     dict(default=403, dispatcher=201, officer_s1=201, platform=201, leader_s2=404, platform_s2=404, nobody=404)),
    ("notify S1", "post", "/api/v1/areas/{S1}/notices/", {"title": "t", "body": "b"},
     dict(default=403, bureau=201, bureau_s1=201, dispatcher=201, leader_s1=201, leader_s2=404, platform_s2=404, nobody=404)),
    ("notify S2", "post", "/api/v1/areas/{S2}/notices/", {"title": "t", "body": "b"},
     dict(default=404, bureau=201, dispatcher=201, leader_s2=201, platform=403, platform_s2=403, nobody=403)),
    ("read S2 area", "get", "/api/v1/areas/{S2}/", None,
     dict(default=200, bureau_s1=404, leader_s1=404, officer_s1=404)),
]


@pytest.mark.parametrize("who", ROLES)
def test_permission_matrix(users, api, world, who, subtests):
    client = api(users[who])
    for name, method, url, body, expected in CASES:
        with subtests.test(case=name, who=who):
            if body == "PING":
                body = {"lat": 30.2, "lng": 120.2, "recorded_at": timezone.now().isoformat()}
            ids = {k: v.pk for k, v in world.items()}
            r = getattr(client, method)(url.format(**ids), body, format="json") if body else getattr(client, method)(url.format(**ids))
            want = expected.get(who, expected["default"])
            assert r.status_code == want, (name, who, r.status_code, r.content[:200])
            assert r["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("who,n_subjects,n_officers,n_areas", [
    ("bureau", 2, 2, 17), ("bureau_s1", 1, 1, 9), ("leader_s2", 1, 1, 9), ("officer_s1", 1, 1, 9),
    ("platform_s2", 1, 1, 9), ("nobody", 0, 1, 5),
])
def test_lists_only_show_the_users_areas(users, api, world, who, n_subjects, n_officers, n_areas):
    client = api(users[who])
    assert client.get("/api/v1/subjects/").json()["count"] == n_subjects
    assert client.get("/api/v1/officers/").json()["count"] == n_officers
    assert client.get("/api/v1/areas/").json()["count"] == n_areas


@pytest.mark.parametrize("grid", ["S2G1", "NO-SUCH-GRID"])
def test_a_grid_out_of_sight_is_refused_like_a_missing_one(users, api, world, grid):
    """bureau_s1 naming S2's grid gets the very answer an unknown code gets (400 on `grid`), not a 403
    that confirms the grid exists; nothing is written."""
    from grids.models import Subject

    body = {"name": "新", "category": "FOOD-R", "lat": 30.3, "lng": 121.3, "grid": grid}
    r = api(users["bureau_s1"]).post("/api/v1/subjects/", body, format="json")
    assert r.status_code == 400 and list(r.json()) == ["grid"], r.content
    assert grid in r.json()["grid"][0] and Subject.objects.count() == 2
    r = api(users["bureau_s1"]).patch(f"/api/v1/subjects/{world['s1_subject'].pk}/", {"grid": grid}, format="json")
    assert r.status_code == 400 and list(r.json()) == ["grid"], r.content
