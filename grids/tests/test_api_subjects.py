"""/api/v1/subjects/: filters, scoping, phone masking, writes by bureau staff only, licence uniqueness."""
from unittest import mock

import pytest
from django.db import IntegrityError

from grids.testing import square
from core.models import AuditLog
from grids import services
from grids.models import Subject

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db
URL = "/api/v1/subjects/"


@pytest.fixture
def subjects(district, categories):
    """Five subjects: three in S1 (one closed), two in S2."""
    mk = services.insert_subject
    return {
        "noodle": mk(None, name="老王面馆", category=categories["restaurant"],
                     contact_phone="13812345678", licence_no="LIC-001", address="文一路1号", lat=30.2, lng=120.2,
                     legal_representative="王五", tags=["夜宵", "重点"]),
        "tea": mk(None, name="茶香小馆", category=categories["restaurant"],
                  contact_phone="057188889999", licence_no="LIC-002", address="文二路2号", lat=30.7, lng=120.7,
                  tags=["夜宵"]),
        "site": mk(None, name="滨江工地", category=categories["building_site"],
                   address="江滨路9号", lat=30.3, lng=120.3, status="closed"),
        "east": mk(None, name="东区商场", category=categories["building_site"],
                   contact_phone="13900001111", licence_no="LIC-003", address="东大街3号", lat=30.2, lng=121.2),
        "east2": mk(None, name="东区面馆", category=categories["restaurant"],
                    address="东大街5号", lat=30.8, lng=121.8),
    }


def names(response):
    assert response.status_code == 200, response.content
    return sorted(s["name"] for s in response.json()["results"])


# --- Reading ----------------------------------------------------------------------------------

def test_detail_shape(users, api, subjects):
    s = subjects["noodle"]
    r = api(users["dispatcher"]).get(f"{URL}{s.pk}/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert {k: body[k] for k in ("name", "category", "category_name", "major_category", "contact_phone", "licence_no",
                                 "address", "lat", "lng", "grid", "grid_name", "status", "legal_representative")} == {
        "name": "老王面馆", "category": "FOOD-R", "category_name": "餐馆", "major_category": "餐饮",
        "contact_phone": "13812345678", "licence_no": "LIC-001", "address": "文一路1号", "lat": 30.2, "lng": 120.2,
        "grid": "S1G1", "grid_name": "网格1-1", "status": "active", "legal_representative": "王五"}
    assert sorted(body["tags"]) == ["夜宵", "重点"]


@pytest.mark.parametrize("params,expected", [
    ({}, ["东区商场", "东区面馆", "滨江工地", "老王面馆", "茶香小馆"]),
    ({"area_code": "S1"}, ["滨江工地", "老王面馆", "茶香小馆"]),
    ({"area_code": "S1G2"}, ["茶香小馆"]),
    ({"area_code": "S2G1M1"}, ["东区商场"]),
    ({"area_code": "D"}, ["东区商场", "东区面馆", "滨江工地", "老王面馆", "茶香小馆"]),
    ({"area_code": "NOPE"}, []),
    ({"category": "FOOD"}, ["东区面馆", "老王面馆", "茶香小馆"]),
    ({"category": "SITE-B"}, ["东区商场", "滨江工地"]),
    ({"status": "closed"}, ["滨江工地"]),
    ({"status": "active", "category": "SITE"}, ["东区商场"]),
    ({"tag": "夜宵"}, ["老王面馆", "茶香小馆"]),
    ({"tag": "重点"}, ["老王面馆"]),
    ({"q": "面馆"}, ["东区面馆", "老王面馆"]),
    ({"q": "lic-00"}, ["东区商场", "老王面馆", "茶香小馆"]),
    ({"q": "东大街"}, ["东区商场", "东区面馆"]),
    ({"search": "文二路"}, ["茶香小馆"]),
])
def test_filters(users, api, subjects, params, expected):
    assert names(api(users["bureau"]).get(URL, params)) == expected


def test_filter_by_area_id_any_level(users, api, subjects, district):
    client = api(users["bureau"])
    assert names(client.get(URL, {"area": district["S2"].pk})) == ["东区商场", "东区面馆"]
    assert names(client.get(URL, {"area": district["S1C1"].pk})) == ["滨江工地", "老王面馆", "茶香小馆"]
    assert names(client.get(URL, {"area": district["S1G1M2"].pk})) == []
    assert names(client.get(URL, {"area": 999999})) == []
    assert client.get(URL, {"area": "abc"}).status_code == 400


def test_filter_by_zone(users, api, subjects, district):
    zone = services.create_area(None, code="S1Z1", name="防区1", kind="zone", parent=district["S1"],
                                boundary=square(120.0, 30.0, 120.5, 31.0))
    services.update_area(None, district["S1G1"], zone=zone)
    client = api(users["bureau"])
    assert names(client.get(URL, {"area": zone.pk})) == ["滨江工地", "老王面馆"]
    assert names(client.get(URL, {"area_code": "S1Z1"})) == ["滨江工地", "老王面馆"]


def test_ordering(users, api, subjects):
    client = api(users["bureau"])
    r = client.get(URL, {"ordering": "-id"})
    ids = [s["id"] for s in r.json()["results"]]
    assert ids == sorted(ids, reverse=True)
    r = client.get(URL, {"ordering": "name"})
    got = [s["name"] for s in r.json()["results"]]
    assert got == sorted(got)


def test_bad_filter_values(users, api, subjects):
    client = api(users["bureau"])
    assert client.get(URL, {"status": "dead"}).status_code == 400
    assert client.get(URL, {"ordering": "contact_phone"}).status_code == 200  # unknown orderings are ignored


def test_street_user_sees_only_own_street(users, api, subjects):
    client = api(users["leader_s2"])
    assert names(client.get(URL)) == ["东区商场", "东区面馆"]
    assert names(client.get(URL, {"area_code": "S1"})) == []
    assert client.get(f"{URL}{subjects['noodle'].pk}/").status_code == 404
    assert client.get(f"{URL}{subjects['east'].pk}/").status_code == 200
    assert client.get(f"{URL}999999/").status_code == 404


def test_micro_grid_user_sees_the_subjects_inside_their_micro_grid(users, api, subjects):
    # "nobody" is bound to micro-grid S2G2M2; subjects hang on grids, so their point decides.
    client = api(users["nobody"])
    assert names(client.get(URL)) == ["东区面馆"]
    assert client.get(f"{URL}{subjects['east2'].pk}/").status_code == 200
    assert client.get(f"{URL}{subjects['east'].pk}/").status_code == 404  # S2G1: same street, other grid


@pytest.mark.parametrize("who,phone", [
    ("dispatcher", "13812345678"), ("leader_s1", "13812345678"), ("bureau", "13812345678"),
    ("officer_s1", "138****5678"), ("platform", "138****5678"),
])
def test_phone_masked_for_roles_that_do_not_need_it(users, api, subjects, who, phone):
    client = api(users[who])
    detail = client.get(f"{URL}{subjects['noodle'].pk}/").json()
    assert detail["contact_phone"] == phone
    listed = {s["name"]: s["contact_phone"] for s in client.get(URL).json()["results"]}
    assert listed["老王面馆"] == phone


def test_list_query_count_is_bounded(users, api, subjects, categories, django_assert_max_num_queries):
    for i in range(30):
        services.insert_subject(None, name=f"店{i}", category=categories["restaurant"],
                                lat=30.1 + i / 100, lng=120.1, tags=[f"t{i % 3}"])
    client = api(users["leader_s1"])
    with django_assert_max_num_queries(6):
        r = client.get(URL, {"page_size": 100})
    assert r.json()["count"] == 33


def test_points_for_the_map(users, api, subjects):
    r = api(users["leader_s1"]).get("/api/v1/subjects/points/", {"bbox": "120,30,121,31"})
    assert r.status_code == 200
    body = r.json()
    assert body["columns"][:4] == ["id", "name", "lat", "lng"]
    assert sorted(row[1] for row in body["rows"]) == ["老王面馆", "茶香小馆"]  # active only, own street only
    assert body["truncated"] is False
    assert api(users["leader_s1"]).get("/api/v1/subjects/points/", {"bbox": "x"}).status_code == 400
    r = api(users["bureau"]).get("/api/v1/subjects/points/", {"category": "SITE"})
    assert [row[1] for row in r.json()["rows"]] == ["东区商场"]  # 滨江工地 is closed
    r = api(users["bureau"]).get("/api/v1/subjects/points/", {"category": "FOOD-R"})
    assert sorted(row[1] for row in r.json()["rows"]) == ["东区面馆", "老王面馆", "茶香小馆"]


# --- Writing ----------------------------------------------------------------------------------

NEW = {"name": "新开小店", "category": "FOOD-R", "lat": 30.6, "lng": 120.6, "contact_phone": "13700001234",
       "licence_no": "LIC-NEW", "address": "文三路3号", "tags": ["新店"]}


def test_create_by_bureau_sets_grid_from_point_and_audits(users, api, district, categories):
    r = api(users["bureau"]).post(URL, NEW, format="json", REMOTE_ADDR="10.9.8.7")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["grid"] == "S1G2" and body["tags"] == ["新店"] and body["status"] == "active"
    subject = Subject.objects.get(pk=body["id"])
    assert subject.grid == district["S1G2"]
    log = AuditLog.objects.get(action="subject.created", object_id=str(subject.pk))
    assert log.actor == users["bureau"] and log.ip == "10.9.8.7"
    assert log.changes["name"] == [None, "新开小店"] and log.changes["grid"] == [None, district["S1G2"].pk]


def test_create_with_explicit_grid(users, api, district, categories):
    client = api(users["bureau"])
    # On the border of S1G1 and S1G2 either grid is right; the given one wins.
    r = client.post(URL, {**NEW, "lng": 120.5, "grid": "S1G1"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["grid"] == "S1G1"
    # A grid that doesn't hold the point is refused.
    r = client.post(URL, {**NEW, "licence_no": "", "grid": "S1G1"}, format="json")
    assert r.status_code == 400 and "grid" in r.json()


@pytest.mark.parametrize("who", ["dispatcher", "leader_s1", "officer_s1", "platform"])
def test_create_and_update_refused_for_other_roles(users, api, subjects, who):
    client = api(users[who])
    assert client.post(URL, NEW, format="json").status_code == 403
    assert client.patch(f"{URL}{subjects['noodle'].pk}/", {"name": "x"}, format="json").status_code == 403
    assert client.put(f"{URL}{subjects['noodle'].pk}/", {**NEW, "licence_no": ""}, format="json").status_code == 403
    assert Subject.objects.filter(name__in=["x", "新开小店"]).count() == 0


def test_bureau_staff_of_one_street_cannot_write_in_another(users, api, subjects):
    client = api(users["bureau_s1"])
    r = client.post(URL, {**NEW, "lat": 30.6, "lng": 121.6}, format="json")  # a point in S2
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"
    # Naming the other street's grid: answered like an unknown grid code (400), not a 403 confirming it.
    r = client.post(URL, {**NEW, "lat": 30.6, "lng": 121.2, "grid": "S2G1"}, format="json")
    assert r.status_code == 400 and list(r.json()) == ["grid"]
    # Another street's subject is hidden from them altogether.
    assert client.patch(f"{URL}{subjects['east'].pk}/", {"name": "x"}, format="json").status_code == 404
    # Nor may they move their own subject into the other street.
    r = client.patch(f"{URL}{subjects['noodle'].pk}/", {"lat": 30.5, "lng": 121.5}, format="json")
    assert r.status_code == 403
    assert Subject.objects.get(pk=subjects["noodle"].pk).grid.code == "S1G1"
    # Within their street they may.
    assert client.post(URL, NEW, format="json").status_code == 201


def test_point_outside_every_grid_is_400(users, api, district, categories):
    r = api(users["bureau"]).post(URL, {**NEW, "lat": 35.0, "lng": 100.0}, format="json")
    assert r.status_code == 400
    assert "lat" in r.json()


@pytest.mark.parametrize("change,field", [
    ({"lat": 91}, "lat"), ({"lng": "east"}, "lng"), ({"name": ""}, "name"), ({"category": "FOOD"}, "category"),
    ({"category": "NOPE"}, "category"), ({"status": "open"}, "status"), ({"grid": "S1G1M1"}, "grid"),
    ({"grid": "NOPE"}, "grid"), ({"tags": "not-a-list"}, "tags"), ({"tags": ["x" * 51]}, "tags"),
    ({"name": "x" * 201}, "name"), ({"licence_no": "L" * 65}, "licence_no"), ({"contact_phone": "1" * 33}, "contact_phone"),
    ({"contact_phone": "8765432"}, "contact_phone"), ({"contact_phone": "138"}, "contact_phone"),
])
def test_create_validation_errors_name_the_field(users, api, district, categories, change, field):
    r = api(users["bureau"]).post(URL, {**NEW, **change}, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()


def test_create_requires_name_category_and_point(users, api, district, categories):
    r = api(users["bureau"]).post(URL, {}, format="json")
    assert r.status_code == 400
    assert {"name", "category", "lat", "lng"} <= set(r.json())


def test_licence_unique_gives_field_message(users, api, subjects):
    client = api(users["bureau"])
    r = client.post(URL, {**NEW, "licence_no": "LIC-001"}, format="json")
    assert r.status_code in (400, 409)
    assert "licence_no" in r.json() and "LIC-001" in r.json()["licence_no"][0]
    r = client.patch(f"{URL}{subjects['tea'].pk}/", {"licence_no": "LIC-001"}, format="json")
    assert r.status_code in (400, 409) and "licence_no" in r.json()
    # Blank licences are not unique: several subjects may have none.
    assert client.post(URL, {**NEW, "licence_no": ""}, format="json").status_code == 201
    assert client.post(URL, {**NEW, "name": "另一家", "licence_no": None}, format="json").status_code == 201
    assert Subject.objects.filter(licence_no__isnull=True).count() == 4


def test_licence_clash_found_only_by_the_database_is_409(users, api, subjects):
    """Two requests pass validation at once; the second insert meets the unique constraint."""
    with mock.patch("grids.models.Subject.objects.create", side_effect=IntegrityError("UNIQUE constraint failed")):
        r = api(users["bureau"]).post(URL, NEW, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "conflict"


def test_patch_updates_and_audits_old_to_new(users, api, subjects, district):
    s = subjects["noodle"]
    r = api(users["bureau"]).patch(f"{URL}{s.pk}/", {"name": "王记面馆", "tags": ["重点"]}, format="json",
                                   REMOTE_ADDR="10.1.1.1")
    assert r.status_code == 200, r.content
    assert r.json()["name"] == "王记面馆" and r.json()["tags"] == ["重点"]
    log = AuditLog.objects.filter(action="subject.updated", object_id=str(s.pk)).get()
    assert log.changes["name"] == ["老王面馆", "王记面馆"]
    assert len(log.changes["tags"][0]) == 2 and len(log.changes["tags"][1]) == 1
    assert log.ip == "10.1.1.1" and log.actor == users["bureau"]


def test_patch_moving_the_point_recomputes_the_grid(users, api, subjects):
    s = subjects["noodle"]
    r = api(users["bureau"]).patch(f"{URL}{s.pk}/", {"lat": 30.9, "lng": 120.9}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["grid"] == "S1G2"
    r = api(users["bureau"]).patch(f"{URL}{s.pk}/", {"lat": 35.0}, format="json")
    assert r.status_code == 400 and "lat" in r.json()


def test_patch_without_changes_writes_no_audit(users, api, subjects):
    s = subjects["noodle"]
    r = api(users["bureau"]).patch(f"{URL}{s.pk}/", {"name": s.name}, format="json")
    assert r.status_code == 200
    assert not AuditLog.objects.filter(action="subject.updated").exists()


def test_put_replaces_the_record(users, api, subjects):
    s = subjects["tea"]
    r = api(users["bureau"]).put(f"{URL}{s.pk}/", {**NEW, "licence_no": "LIC-002", "status": "closed"}, format="json")
    assert r.status_code == 200, r.content
    s.refresh_from_db()
    assert (s.name, s.status, s.grid.code, s.contact_phone) == ("新开小店", "closed", "S1G2", "13700001234")


def test_delete_not_allowed(users, api, subjects):
    assert api(users["bureau"]).delete(f"{URL}{subjects['tea'].pk}/").status_code == 405


@pytest.mark.parametrize("change,status", [
    ({"tags": []}, 200), ({"licence_no": None}, 200), ({"licence_no": ""}, 200), ({"grid": "S1G1"}, 200),
    ({"grid": None}, 400), ({"lat": None}, 400), ({"category": "SITE-B"}, 200), ({"status": "closed"}, 200),
    ({"name": "  "}, 400), ({"id": 999, "created_at": "2020-01-01T00:00:00Z"}, 200), ({}, 200),
    ({"contact_phone": None}, 400), ({"tags": [None]}, 400), ({"lat": "30.25", "lng": "120.25"}, 200),
])
def test_patch_variants_never_500(users, api, subjects, change, status):
    s = subjects["noodle"]
    r = api(users["bureau"]).patch(f"{URL}{s.pk}/", change, format="json")
    assert r.status_code == status, r.content
    if status == 200:
        assert r.json()["id"] == s.pk  # read-only fields are ignored


def test_patch_tags_and_licence_semantics(users, api, subjects):
    s = subjects["noodle"]
    client = api(users["bureau"])
    assert client.patch(f"{URL}{s.pk}/", {"tags": []}, format="json").json()["tags"] == []
    assert client.patch(f"{URL}{s.pk}/", {"licence_no": "  "}, format="json").json()["licence_no"] is None
    body = client.patch(f"{URL}{s.pk}/", {"name": "新"}, format="json").json()
    assert body["tags"] == [] and body["licence_no"] is None and body["grid"] == "S1G1"


def test_non_json_bodies(users, api, subjects):
    client = api(users["bureau"])
    r = client.post(URL, "not json", content_type="application/json")
    assert r.status_code == 400
    r = client.post(URL, {"name": "表单", "category": "FOOD-R", "lat": "30.6", "lng": "120.6"})  # multipart form
    assert r.status_code == 201, r.content
    r = client.post(URL, [1, 2], format="json")
    assert r.status_code == 400
