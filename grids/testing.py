"""The shared test district (builders, used by the root conftest's fixtures) and fast versions of
those fixtures, for test modules that use the test district in every test.

    from grids.testing import square  # a rectangle as GeoJSON, for boundaries in tests

    from grids.testing import *  # noqa: F403 (district, users, categories, departments, teams, officers)

Imported into a test module, these replace the conftest fixtures of the same names for that module
only. The data is the same (the same builders build it), but built ONCE per module
inside a transaction that is rolled back when the module ends. Each test still runs in its own
savepoint (pytest-django's `db`), so what a test writes vanishes after it, and each test gets fresh model
instances, so nothing leaks through attributes cached on them (roles, area paths).

Building the district and its nine users costs ~0.3 s; a module with 50 tests saves ~15 s.
Don't use `django_db(transaction=True)` in such a module: its flush would wipe the shared data.
"""
import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test.utils import override_settings

from core import roles
from core.browser_testing import PASSWORD  # every test user's password
from grids import accounts, services
from grids.models import Department, Officer, SubjectCategory, Team

__all__ = ["shared_registry", "district", "users", "categories", "departments", "teams", "officers"]  # the fixtures

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def square(lng0, lat0, lng1, lat1):
    return {"type": "Polygon", "coordinates": [[[lng0, lat0], [lng1, lat0], [lng1, lat1], [lng0, lat1], [lng0, lat0]]]}


def build_district():
    """District D (0..2 × 0..1 degrees around 120E/30N) with streets S1 (west) and S2 (east).

    Each street: one community, two grids, each grid two micro-grids. Points: S1 grid 1 is
    lng 120.0–120.5, lat 30.0–31.0.
    """
    sys_user = None
    d = services.create_area(sys_user, code="D", name="测试区", kind="district", boundary=square(120.0, 30.0, 122.0, 31.0))
    out = {"district": d}
    for si, (lng0, tier) in enumerate(((120.0, "urban"), (121.0, "general")), start=1):
        s = services.create_area(sys_user, code=f"S{si}", name=f"街道{si}", kind="street", parent=d, tier=tier,
                                 boundary=square(lng0, 30.0, lng0 + 1, 31.0))
        c = services.create_area(sys_user, code=f"S{si}C1", name=f"社区{si}", kind="community", parent=s,
                                 boundary=square(lng0, 30.0, lng0 + 1, 31.0))
        out[f"S{si}"], out[f"S{si}C1"] = s, c
        for gi in (1, 2):
            g0 = lng0 + (gi - 1) * 0.5
            g = services.create_area(sys_user, code=f"S{si}G{gi}", name=f"网格{si}-{gi}", kind="grid", parent=c,
                                     boundary=square(g0, 30.0, g0 + 0.5, 31.0))
            out[f"S{si}G{gi}"] = g
            for mi in (1, 2):
                m0 = 30.0 + (mi - 1) * 0.5
                out[f"S{si}G{gi}M{mi}"] = services.create_area(
                    sys_user, code=f"S{si}G{gi}M{mi}", name=f"微网格{si}-{gi}-{mi}", kind="micro_grid", parent=g,
                    boundary=square(g0, m0, g0 + 0.5, m0 + 0.5))
    return out


def build_categories():
    food = SubjectCategory.objects.create(code="FOOD", name="餐饮")
    rest = SubjectCategory.objects.create(code="FOOD-R", name="餐馆", parent=food)
    site = SubjectCategory.objects.create(code="SITE", name="建设工地")
    site_b = SubjectCategory.objects.create(code="SITE-B", name="房建工地", parent=site)
    return {"food": food, "restaurant": rest, "site": site, "building_site": site_b}


def build_departments():
    return {
        "ZHZF": Department.objects.create(code="ZHZF", name="综合行政执法局", short_name="综合执法"),
        "SCJG": Department.objects.create(code="SCJG", name="市场监督管理局", short_name="市场监管"),
        "XF": Department.objects.create(code="XF", name="消防救援大队", short_name="消防", kind="supervising"),
    }


def _user(username, role, area_codes, password=PASSWORD):
    user, _ = accounts.add_user(None, username=username, role=role, area_codes=area_codes, password=password)
    return user


def build_users():
    return {
        "bureau": _user("bureau", roles.BUREAU_STAFF, ["D"]),
        "bureau_s1": _user("bureau_s1", roles.BUREAU_STAFF, ["S1"]),
        "dispatcher": _user("dispatcher", roles.DISPATCHER, ["D"]),
        "leader_s1": _user("leader_s1", roles.TEAM_LEADER, ["S1"]),
        "leader_s2": _user("leader_s2", roles.TEAM_LEADER, ["S2"]),
        "officer_s1": _user("officer_s1", roles.OFFICER, ["S1"]),
        "platform": _user("platform", roles.API_CLIENT, ["D"]),
        "platform_s2": _user("platform_s2", roles.API_CLIENT, ["S2"]),
        "nobody": _user("nobody", roles.OFFICER, ["S2G2M2"]),
    }


def build_teams(district):
    return {s: Team.objects.create(code=f"T-{s}", name=f"{s}综合行政执法队", street=district[s]) for s in ("S1", "S2")}


def build_officers(users, teams, departments):
    o1 = Officer.objects.create(user=users["officer_s1"], name="张三", badge_no="B001", team=teams["S1"],
                                home_department=departments["ZHZF"], phone="13800001111")
    o2 = Officer.objects.create(user=users["nobody"], name="李四", badge_no="B002", team=teams["S2"],
                                home_department=departments["SCJG"], phone="13800002222")
    return {"s1": o1, "s2": o2}


def _build():
    from grids import spatial

    spatial.invalidate()
    d = build_district()
    cats = build_categories()
    deps = build_departments()
    us = build_users()
    ts = build_teams(d)
    offs = build_officers(us, ts, deps)
    return {
        "district": {k: a.code for k, a in d.items()},
        "categories": {k: c.code for k, c in cats.items()},
        "departments": {k: x.code for k, x in deps.items()},
        "users": {k: u.username for k, u in us.items()},
        "teams": {k: t.code for k, t in ts.items()},
        "officers": {k: o.badge_no for k, o in offs.items()},
    }


@pytest.fixture(scope="module")
def shared_registry(django_db_setup, django_db_blocker):
    """The keys of the shared data (fixture key → code / username / badge), built once per module."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
                keys = _build()
        except BaseException as exc:
            transaction.set_rollback(True)
            outer.__exit__(type(exc), exc, exc.__traceback__)
            raise
    try:
        yield keys
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
        from grids import spatial

        spatial.invalidate()


def _by(model, field, wanted: dict):
    found = model.objects.in_bulk(list(wanted.values()), field_name=field)
    return {k: found[v] for k, v in wanted.items()}


@pytest.fixture
def district(shared_registry, db):
    from grids.models import Area

    return _by(Area, "code", shared_registry["district"])


@pytest.fixture
def categories(shared_registry, db):
    from grids.models import SubjectCategory

    return _by(SubjectCategory, "code", shared_registry["categories"])


@pytest.fixture
def departments(shared_registry, db):
    from grids.models import Department

    return _by(Department, "code", shared_registry["departments"])


@pytest.fixture
def users(shared_registry, db):
    return _by(get_user_model(), "username", shared_registry["users"])


@pytest.fixture
def teams(shared_registry, db):
    from grids.models import Team

    return _by(Team, "code", shared_registry["teams"])


@pytest.fixture
def officers(shared_registry, db):
    from grids.models import Officer

    return _by(Officer, "badge_no", shared_registry["officers"])
