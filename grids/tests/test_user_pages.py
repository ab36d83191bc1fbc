"""The user page (/users/): bureau staff bound to the district manage accounts (role, areas, deactivate,
reset password), every change audited from → to; everyone else is refused, and nobody grants themselves more."""
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.test import Client

from core.models import AuditLog
from grids import accounts
from grids.testing import *  # noqa: F403

pytestmark = pytest.mark.django_db
User = get_user_model()


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", password="pass-word-1")


def _urls(users):
    pk = users["officer_s1"].pk
    return [("get", "/users/"), ("get", "/users/new/"), ("get", f"/users/{pk}/"),
            ("post", "/users/new/"), ("post", f"/users/{pk}/"), ("post", f"/users/{pk}/active/"),
            ("post", f"/users/{pk}/password/")]


@pytest.mark.parametrize("who", ["officer_s1", "dispatcher", "leader_s1", "platform", "bureau_s1"])
def test_everyone_but_district_bureau_staff_is_refused(users, who):
    c = client_for(users[who])
    for method, url in _urls(users):
        assert getattr(c, method)(url, {"active": "no", "role": "officer"}).status_code == 403, (who, method, url)
    users["officer_s1"].refresh_from_db()
    assert users["officer_s1"].is_active and not AuditLog.objects.filter(action__startswith="user.", actor=users[who]).exists()


def test_anonymous_is_sent_to_log_in(client, users):
    for method, url in _urls(users):
        assert getattr(client, method)(url).status_code == 302


def test_list_filters_by_role_area_and_active(users, district, root):
    c = client_for(users["bureau"])
    r = c.get("/users/")
    names = [u.username for u in r.context["page"]]
    assert "officer_s1" in names and "root" not in names  # superusers are not managed here
    assert [u.username for u in c.get("/users/", {"role": "team_leader"}).context["page"]] == ["leader_s1", "leader_s2"]
    in_s2 = {u.username for u in c.get("/users/", {"area": district["S2"].pk}).context["page"]}
    assert in_s2 == {"leader_s2", "platform_s2", "nobody"}
    users["nobody"].is_active = False
    users["nobody"].save()
    assert [u.username for u in c.get("/users/", {"active": "no"}).context["page"]] == ["nobody"]
    assert c.get("/users/", {"area": "abc"}).status_code == 400
    html = r.content.decode()
    assert '<label for="id_role">' in html and "<optgroup" in html


def test_create_with_a_one_time_password_shown_once(users, district):
    c = client_for(users["bureau"])
    r = c.post("/users/new/", {"username": "newbie", "display_name": "新人", "role": "officer",
                               "areas": [district["S1"].pk, district["S2G1"].pk], "is_superuser": "on", "is_staff": "on"})
    assert r.status_code == 200 and r["Cache-Control"].startswith("max-age=0")
    password = re.search(r'class="one-time-password">([^<]+)<', r.content.decode()).group(1)
    user = User.objects.get(username="newbie")
    assert authenticate(username="newbie", password=password) == user
    assert not user.is_superuser and not user.is_staff  # no flag comes through the form
    assert accounts.role_of(user) == "officer"
    assert sorted(user.area_memberships.values_list("area__code", flat=True)) == ["S1", "S2G1"]
    log = AuditLog.objects.get(action="user.created", object_id=str(user.pk))
    assert log.actor == users["bureau"] and log.changes["role"] == [None, "officer"]
    assert log.changes["areas"] == [[], ["S1", "S2G1"]] and password not in str(log.changes)


def test_create_refusals_are_field_errors_and_write_nothing(users, district):
    c = client_for(users["bureau"])
    base = {"username": "x1", "role": "officer", "areas": [district["S1"].pk]}
    for bad, field in [({"password": "123"}, "password"), ({"username": "bureau"}, "username"),
                       ({"areas": [99999999]}, "areas"), ({"areas": []}, "areas"), ({"role": "root"}, "role"),
                       ({"username": "bad name!"}, "username")]:
        r = c.post("/users/new/", {**base, **bad})
        assert r.status_code == 400, bad
        assert r.context["form"].errors.get(field), (bad, r.context["form"].errors)
    assert not User.objects.filter(username__in=["x1", "bad name!"]).exists()
    assert not AuditLog.objects.filter(action="user.created", actor=users["bureau"]).exists()


def test_edit_role_and_areas_audited_from_to(users, district):
    c = client_for(users["bureau"])
    target = users["leader_s1"]
    r = c.get(f"/users/{target.pk}/")
    assert r.status_code == 200 and 'name="areas"' in r.content.decode()
    r = c.post(f"/users/{target.pk}/", {"display_name": "王队", "role": "team_leader", "areas": [district["S2"].pk]})
    assert r.status_code == 302
    assert list(target.area_memberships.values_list("area__code", flat=True)) == ["S2"]
    log = AuditLog.objects.get(action="user.updated", object_id=str(target.pk))
    assert log.changes == {"areas": [["S1"], ["S2"]], "display_name": ["", "王队"]}


def test_superusers_are_out_of_reach(users, root):
    c = client_for(users["bureau"])
    assert c.get(f"/users/{root.pk}/").status_code == 404
    assert c.post(f"/users/{root.pk}/active/", {"active": "no"}).status_code == 404
    assert c.post(f"/users/{root.pk}/password/", {}).status_code == 404
    root.refresh_from_db()
    assert root.is_active and root.check_password("pass-word-1")
    assert c.get("/users/99999999999999999999/").status_code == 404


def test_no_self_escalation(users, district):
    me = users["bureau"]
    c = client_for(me)
    # Own role and areas stay as they are (here: a narrower area, another role: both refused).
    r = c.post(f"/users/{me.pk}/", {"display_name": "我", "role": "dispatcher", "areas": [district["district"].pk]})
    assert r.status_code == 403
    r = c.post(f"/users/{me.pk}/", {"display_name": "我", "role": "bureau_staff", "areas": [district["district"].pk, district["S1"].pk]})
    assert r.status_code == 403
    assert accounts.role_of(me) == "bureau_staff" and list(me.area_memberships.values_list("area__code", flat=True)) == ["D"]
    # The own name may change; deactivating oneself may not.
    assert c.post(f"/users/{me.pk}/", {"display_name": "我", "role": "bureau_staff", "areas": [district["district"].pk]}).status_code == 302
    c.post(f"/users/{me.pk}/active/", {"active": "no"})
    me.refresh_from_db()
    assert me.is_active and me.first_name == "我"


def test_street_bound_bureau_staff_cannot_manage_through_the_services(users, district):
    from core.exceptions import Forbidden

    with pytest.raises(Forbidden):
        accounts.create_user(users["bureau_s1"], username="z", display_name="", role="officer", areas=[district["S1"]])
    with pytest.raises(Forbidden):
        accounts.set_active(users["bureau_s1"], users["officer_s1"], active=False)
    # Whom they would see: only users all of whose areas lie in theirs.
    assert {u.username for u in accounts.users_for(users["bureau_s1"])} == {"bureau_s1", "leader_s1", "officer_s1"}


def test_deactivate_and_reactivate(users):
    c = client_for(users["bureau"])
    target = users["officer_s1"]
    assert c.post(f"/users/{target.pk}/active/", {"active": "no"}).status_code == 302
    target.refresh_from_db()
    assert not target.is_active and authenticate(username="officer_s1", password="pass-word-1") is None
    assert AuditLog.objects.get(action="user.deactivated").changes == {"is_active": [True, False]}
    c.post(f"/users/{target.pk}/active/", {"active": "yes"})
    target.refresh_from_db()
    assert target.is_active and AuditLog.objects.filter(action="user.activated").exists()


def test_reset_password(users):
    c = client_for(users["bureau"])
    target = users["officer_s1"]
    r = c.post(f"/users/{target.pk}/password/", {"password": "short"})
    assert r.status_code == 400 and r.context["reset_form"].errors["password"]
    target.refresh_from_db()
    assert target.check_password("pass-word-1")
    r = c.post(f"/users/{target.pk}/password/", {})
    password = re.search(r'class="one-time-password">([^<]+)<', r.content.decode()).group(1)
    target.refresh_from_db()
    assert target.check_password(password)
    r = c.post(f"/users/{target.pk}/password/", {"password": "a-Better-pass-42"})
    assert r.status_code == 302
    target.refresh_from_db()
    assert target.check_password("a-Better-pass-42")
    assert AuditLog.objects.filter(action="user.password_reset", object_id=str(target.pk)).count() == 2


def test_workbench_and_menu_link_the_user_page(users):
    assert 'href="/users/"' in client_for(users["bureau"]).get("/").content.decode()
    assert 'href="/users/"' not in client_for(users["bureau_s1"]).get("/").content.decode()
