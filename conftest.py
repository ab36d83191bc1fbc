"""Shared fixtures: a small district with real boundaries, one user per role, API clients."""
import os

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from core import roles
from grids import accounts, services, spatial
from grids.models import Department, Officer, SubjectCategory, Team


def _serialize_transactional_tests(items):
    """Every `django_db(transaction=True)` test gets serialized_rollback=True.

    A transactional test ends with a flush. Without serialized rollback the flush re-runs post_migrate
    (content types, permissions: new ids on PostgreSQL, whose sequences go on), and the next test that
    does use serialized_rollback then fails to restore the original rows (duplicate content type).
    With it everywhere, each transactional test starts from the database as migrations left it
    (data migrations included) on SQLite and PostgreSQL alike.
    """
    names = ("transaction", "reset_sequences", "databases", "serialized_rollback", "available_apps")
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None:
            continue
        kwargs = {**dict(zip(names, marker.args)), **marker.kwargs}
        if kwargs.get("transaction") and not kwargs.get("serialized_rollback"):
            item.add_marker(pytest.mark.django_db(**{**kwargs, "serialized_rollback": True}), append=False)


@pytest.hookimpl(trylast=True)  # after `-m` deselection: `-m "not integration"` must not trip the CI check
def pytest_collection_modifyitems(config, items):
    """Integration tests need PostgreSQL + Redis: on CI they must run, elsewhere they skip, saying why."""
    _serialize_transactional_tests(items)
    on_pg = os.environ.get("DATABASE_URL", "").startswith("postgres")
    has_redis = bool(os.environ.get("REDIS_URL"))
    if on_pg and has_redis:
        return
    if os.environ.get("CI", "").lower() == "true" and any("integration" in i.keywords for i in items):
        raise pytest.UsageError("CI=true but DATABASE_URL (PostgreSQL) / REDIS_URL are not set: integration tests cannot run")
    skip = pytest.mark.skip(reason="integration: set DATABASE_URL=postgres://… and REDIS_URL=redis://… (make test does when the services are up)")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


def square(lng0, lat0, lng1, lat1):
    return {"type": "Polygon", "coordinates": [[[lng0, lat0], [lng1, lat0], [lng1, lat1], [lng0, lat1], [lng0, lat0]]]}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness costs ~0.3 s a user; tests don't need it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _keep_test_connection_across_requests():
    """Requests sent through the real WSGI/ASGI handler (schemathesis' fuzzing does) fire
    request_started/finished, whose close_old_connections() drops a connection left inside a
    transaction when CONN_MAX_AGE > 0 (the PostgreSQL settings): inside a test that transaction is the
    test's own, and the next query fails with "connection already closed". Django's test client unhooks
    the signal around its own requests only, so: never close a connection in an atomic block here."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    original = BaseDatabaseWrapper.close_if_unusable_or_obsolete

    def close_unless_in_test_transaction(self):
        if not self.in_atomic_block:
            original(self)

    BaseDatabaseWrapper.close_if_unusable_or_obsolete = close_unless_in_test_transaction
    yield
    BaseDatabaseWrapper.close_if_unusable_or_obsolete = original


@pytest.fixture
def browser_pages(monkeypatch):
    """new_page(**context_options) in Debian's Chromium: see core/browser_testing.py."""
    from core import browser_testing

    executable = browser_testing.chromium()
    if not executable:
        pytest.skip("Chromium not installed (/usr/bin/chromium)")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with browser_testing.page_factory(executable) as new_page:
        yield new_page


@pytest.fixture
def browser_page(browser_pages):
    """A desk-sized page in Debian's Chromium that records page errors, CSP refusals (`page.console_errors`)
    and requests leaving this machine (`page.outside_requests`); `page.new_user_page()` opens another session."""
    return browser_pages()


@pytest.fixture(autouse=True)
def _fresh_spatial_index():
    spatial.invalidate()
    yield
    spatial.invalidate()


@pytest.fixture
def district(db):
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


@pytest.fixture
def categories(db):
    food = SubjectCategory.objects.create(code="FOOD", name="餐饮")
    rest = SubjectCategory.objects.create(code="FOOD-R", name="餐馆", parent=food)
    site = SubjectCategory.objects.create(code="SITE", name="建设工地")
    site_b = SubjectCategory.objects.create(code="SITE-B", name="房建工地", parent=site)
    return {"food": food, "restaurant": rest, "site": site, "building_site": site_b}


@pytest.fixture
def departments(db):
    return {
        "ZHZF": Department.objects.create(code="ZHZF", name="综合行政执法局", short_name="综合执法"),
        "SCJG": Department.objects.create(code="SCJG", name="市场监督管理局", short_name="市场监管"),
        "XF": Department.objects.create(code="XF", name="消防救援大队", short_name="消防", kind="supervising"),
    }


def _user(username, role, area_codes, password="pass-word-1"):
    user, _ = accounts.add_user(None, username=username, role=role, area_codes=area_codes, password=password)
    return user


@pytest.fixture
def users(district):
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


@pytest.fixture
def teams(district):
    return {s: Team.objects.create(code=f"T-{s}", name=f"{s}综合行政执法队", street=district[s]) for s in ("S1", "S2")}


@pytest.fixture
def officers(users, teams, departments):
    o1 = Officer.objects.create(user=users["officer_s1"], name="张三", badge_no="B001", team=teams["S1"],
                                home_department=departments["ZHZF"], phone="13800001111")
    o2 = Officer.objects.create(user=users["nobody"], name="李四", badge_no="B002", team=teams["S2"],
                                home_department=departments["SCJG"], phone="13800002222")
    return {"s1": o1, "s2": o2}


@pytest.fixture
def api():
    """api(user) → an APIClient authenticated as that user (None: anonymous)."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def logged_in(users):
    """logged_in("bureau") → a Django test Client logged in as that fixture user (pages, the admin)."""

    def make(name):
        client = Client()
        client.force_login(users[name])
        return client

    return make


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
