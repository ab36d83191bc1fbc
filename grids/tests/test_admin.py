"""The admin pages: bureau staff by role and area, writes through the services, errors as form errors."""
import json

import pytest

from grids.testing import square
from core.models import AuditLog
from grids import services
from grids.models import Area, Department, Officer, Subject

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(django_user_model, district):
    return django_user_model.objects.create_superuser("root", password="long-enough-1")


def as_user(client, user):
    client.force_login(user)
    return client


AREA_FORM = {"code": "S1G3", "name": "网格1-3", "kind": "grid", "tier": "", "zone": "", "boundary": ""}


def area_form(district, **kw):
    data = {**AREA_FORM, "parent": district["S1C1"].pk, **kw}
    if isinstance(data["boundary"], dict):
        data["boundary"] = json.dumps(data["boundary"])
    return data


def test_bureau_staff_reach_the_registry_admin(client, users):
    c = as_user(client, users["bureau_s1"])
    index = c.get("/admin/")
    assert index.status_code == 200
    html = index.content.decode()
    for model in ("area", "subject", "officer", "team", "department", "auditlog"):
        assert f"/{model}/" in html, model
    assert c.get("/admin/grids/subject/").status_code == 200
    assert c.get("/admin/core/auditlog/").status_code == 200


@pytest.mark.parametrize("who", ["dispatcher", "leader_s1", "officer_s1"])
def test_other_roles_have_no_admin(client, users, who):
    r = as_user(client, users[who]).get("/admin/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


def test_area_created_through_the_service(client, users, district):
    c = as_user(client, users["bureau"])
    r = c.post("/admin/grids/area/add/", area_form(district, boundary=square(120.0, 30.0, 120.2, 30.2)))
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    area = Area.objects.get(code="S1G3")
    assert area.path == f"{district['S1C1'].path}{area.pk}/" and area.min_lng == 120.0
    assert AuditLog.objects.filter(action="area.created", object_id=str(area.pk), actor=users["bureau"]).exists()


@pytest.mark.parametrize("change,field", [
    ({"kind": "micro_grid"}, "parent"),
    ({"boundary": square(121.0, 30.0, 121.2, 30.2)}, "boundary"),
    ({"boundary": {"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.1, 30.1], [120.1, 30.0], [120.0, 30.1], [120.0, 30.0]]]}}, "boundary"),
    ({"tier": "urban"}, "tier"),
    ({"code": "S1G1"}, "code"),
])
def test_area_errors_come_back_on_the_form(client, users, district, change, field):
    c = as_user(client, users["bureau"])
    r = c.post("/admin/grids/area/add/", area_form(district, **change))
    assert r.status_code == 200
    assert field in r.context["adminform"].form.errors
    assert not Area.objects.filter(code="S1G3").exists()


def test_area_update_through_the_service(client, users, district):
    c = as_user(client, users["bureau"])
    g = district["S1G1"]
    data = area_form(district, code="S1G1", name="改名网格", kind="grid", boundary=g.boundary)
    r = c.post(f"/admin/grids/area/{g.pk}/change/", data)
    assert r.status_code == 302
    assert Area.objects.get(pk=g.pk).name == "改名网格"
    assert AuditLog.objects.get(action="area.updated", object_id=str(g.pk)).changes == {"name": ["网格1-1", "改名网格"]}
    # Shrinking it so its micro-grids stick out is a form error, not a crash.
    data["boundary"] = json.dumps(square(120.0, 30.0, 120.5, 30.5))
    r = c.post(f"/admin/grids/area/{g.pk}/change/", data)
    assert r.status_code == 200 and "boundary" in r.context["adminform"].form.errors


def test_street_staff_admin_is_scoped(client, users, district):
    c = as_user(client, users["bureau_s1"])
    listed = {a.code for a in c.get("/admin/grids/area/", {"all": ""}).context["cl"].result_list}
    assert "S2G1" not in listed and "S1G1" in listed and "D" in listed
    assert c.get(f"/admin/grids/area/{district['S2G1'].pk}/change/").status_code in (302, 403, 404)
    # The district is shown (an ancestor) but read-only.
    r = c.get(f"/admin/grids/area/{district['district'].pk}/change/")
    assert r.status_code == 200 and not r.context["has_change_permission"]
    r = c.post(f"/admin/grids/area/{district['district'].pk}/change/", {"code": "D", "name": "改", "kind": "district"})
    assert r.status_code == 403
    # Adding under the other street is refused on the form.
    r = c.post("/admin/grids/area/add/", area_form(district, code="S2G9", parent=district["S2C1"].pk))
    assert r.status_code == 200 and not Area.objects.filter(code="S2G9").exists()


def test_subject_added_with_grid_from_point(client, users, district, categories):
    c = as_user(client, users["bureau"])
    data = {"name": "新店", "category": categories["restaurant"].pk, "legal_representative": "", "contact_phone": "13812345678",
            "licence_no": "LIC-A", "shop_sign": "", "address": "某路", "lat": "30.7", "lng": "120.7", "grid": "",
            "status": "active", "tag_names": "夜宵;重点"}
    r = c.post("/admin/grids/subject/add/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors
    s = Subject.objects.get(licence_no="LIC-A")
    assert s.grid == district["S1G2"] and sorted(s.tags.values_list("name", flat=True)) == ["夜宵", "重点"]
    assert AuditLog.objects.filter(action="subject.created", actor=users["bureau"]).exists()
    # Same licence again, a point in no grid, a major category: form errors, never a 500.
    for bad, field in (({"name": "二"}, "licence_no"), ({"lat": "35", "licence_no": ""}, "lat"),
                       ({"category": categories["food"].pk, "licence_no": ""}, "category"),
                       ({"contact_phone": "8765432", "licence_no": ""}, "contact_phone")):
        r = c.post("/admin/grids/subject/add/", {**data, **bad})
        assert r.status_code == 200, bad
        assert field in r.context["adminform"].form.errors, (bad, r.context["adminform"].form.errors)
    assert Subject.objects.count() == 1


def test_subject_change_through_the_service(client, users, district, categories):
    s = services.insert_subject(None, name="店", category=categories["restaurant"],
                                lat=30.2, lng=120.2, tags=["a"])
    c = as_user(client, users["bureau_s1"])
    data = {"name": "新名", "category": categories["restaurant"].pk, "legal_representative": "", "contact_phone": "",
            "licence_no": "", "shop_sign": "", "address": "", "lat": "30.2", "lng": "120.2", "grid": s.grid.pk,
            "status": "closed", "tag_names": "a"}
    r = c.post(f"/admin/grids/subject/{s.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors
    s.refresh_from_db()
    assert (s.name, s.status) == ("新名", "closed") and list(s.tags.values_list("name", flat=True)) == ["a"]
    log = AuditLog.objects.get(action="subject.updated")
    assert log.changes == {"name": ["店", "新名"], "status": ["active", "closed"]}
    # Moving it into S2 is refused for S1's staff.
    r = c.post(f"/admin/grids/subject/{s.pk}/change/", {**data, "lng": "121.2", "grid": ""})
    assert r.status_code == 200 and Subject.objects.get(pk=s.pk).grid == district["S1G1"]


def test_street_staff_cannot_open_other_streets_subjects(client, users, district, categories):
    s = services.insert_subject(None, name="东", category=categories["restaurant"],
                                lat=30.2, lng=121.2)
    c = as_user(client, users["bureau_s1"])
    assert c.get(f"/admin/grids/subject/{s.pk}/change/").status_code in (302, 404)
    assert [x.pk for x in c.get("/admin/grids/subject/").context["cl"].result_list] == []


def test_departments_district_wide_only(client, users, departments):
    data = {"code": "JT", "name": "交通运输局", "short_name": "交通", "kind": "enforcement"}
    assert as_user(client, users["bureau_s1"]).post("/admin/grids/department/add/", data).status_code == 403
    r = as_user(client, users["bureau"]).post("/admin/grids/department/add/", data)
    assert r.status_code == 302
    dep = Department.objects.get(code="JT")
    log = AuditLog.objects.get(action="department.created")
    assert log.changes["name"] == [None, "交通运输局"] and log.object_id == str(dep.pk)


def test_officer_skill_changes_are_audited(client, users, officers, departments, teams):
    o = officers["s1"]
    c = as_user(client, users["bureau_s1"])
    data = {"user": o.user.pk, "name": o.name, "badge_no": o.badge_no, "team": teams["S1"].pk,
            "home_department": departments["ZHZF"].pk, "seconded": "on", "rank": 2,
            "skill_departments": [departments["SCJG"].pk, departments["XF"].pk], "skill_matter_codes": "[]",
            "phone": o.phone, "duty_status": "available"}
    r = c.post(f"/admin/grids/officer/{o.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors
    log = AuditLog.objects.get(action="officer.updated")
    assert log.changes["rank"] == [1, 2] and log.changes["duty_status"] == ["off_duty", "available"]
    assert log.changes["skill_departments"][0] == [] and len(log.changes["skill_departments"][1]) == 2
    # The other street's officer is out of reach.
    assert c.get(f"/admin/grids/officer/{officers['s2'].pk}/change/").status_code in (302, 404)


def test_deleting_is_for_superusers(client, users, root, departments):
    dep = departments["XF"]
    assert as_user(client, users["bureau"]).post(f"/admin/grids/department/{dep.pk}/delete/", {"post": "yes"}).status_code == 403
    r = as_user(client, root).post(f"/admin/grids/department/{dep.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302 and not Department.objects.filter(pk=dep.pk).exists()
    assert AuditLog.objects.filter(action="department.deleted", actor=root).exists()


def test_superuser_sees_every_changelist(client, root, officers):
    c = as_user(client, root)
    for url in ("area", "subject", "officer", "team", "department", "subjectcategory", "areamembership"):
        assert c.get(f"/admin/grids/{url}/").status_code == 200, url
    assert Officer.objects.count() == 2


def test_area_membership_form_has_chinese_labels_and_no_raw_ids(client, users, district):
    from grids.models import AreaMembership

    c = as_user(client, users["bureau_s1"])
    html = c.get("/admin/grids/areamembership/add/").content.decode()
    assert ">用户" in html and ">区域" in html and "vRawIdAdminField" not in html
    assert '<select name="area"' in html and '<optgroup label="街道1">' in html and "街道2" not in html
    assert '<select name="user"' in html
    # An area outside the editor's is refused (not offered, and refused if posted).
    r = c.post("/admin/grids/areamembership/add/", {"user": users["nobody"].pk, "area": district["S2"].pk})
    assert r.status_code == 200 and not AreaMembership.objects.filter(user=users["nobody"], area=district["S2"]).exists()
    r = c.post("/admin/grids/areamembership/add/", {"user": users["nobody"].pk, "area": district["S1G1"].pk})
    assert r.status_code == 302 and AreaMembership.objects.filter(user=users["nobody"], area=district["S1G1"]).exists()
    changelist = c.get("/admin/grids/areamembership/").content.decode()
    assert "网格 · 网格1-1（S1G1）" in changelist
