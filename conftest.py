"""Shared fixtures: a small district with real boundaries, one user per role, API clients."""
import os

import pytest
from django.db import connection
from django.test import Client, override_settings
from rest_framework.test import APIClient

from grids import spatial, testing


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


FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness costs ~0.3 s a user; tests don't need it."""
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: cached figures (analytics.caching) of an earlier test's data
    must not answer a later test (locmem in the fast pass; in the integration pass the test Redis db)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's language: a request in English (the test client runs it in this
    thread) leaves English active, and what a later test computes or caches would depend on the order."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


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


@pytest.fixture(autouse=True, scope="session")
def _outbox_sender_releases_its_connection(django_db_setup):
    """The outbox's sender thread marks rows done on a database connection of its own, which would keep the
    test database from being dropped at the session's end: closed first (torn down before django_db_setup)."""
    yield
    from core import outbox

    outbox.wait_sent(10)
    outbox.release_connection()


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
def asgi_live_server(transactional_db):
    """The ASGI app (HTTP + websockets) under uvicorn on a free port, in this process: see
    core.browser_testing.asgi_server."""
    from core import browser_testing

    with browser_testing.asgi_server() as url:
        yield url


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


@pytest.fixture(autouse=True)
def _fresh_routing_cache():
    """The catalog's routing cache (per process) starts and ends each test empty."""
    from enforcement import routing

    routing.invalidate()
    yield
    routing.invalidate()


@pytest.fixture(autouse=True)
def _fresh_reference_caches(settings):
    """The per-process copies of reference data (core.refcache) start and end each test empty: a rolled
    back test's users, policies and subscriptions must not outlive it (SQLite reuses their ids). Their
    periodic check (for other processes' writes) is off unless a test sets REFERENCE_CACHE_CHECK_SECONDS:
    this process's own writes drop them at once, and query counts stay what the request itself reads."""
    from core import refcache

    settings.REFERENCE_CACHE_CHECK_SECONDS = 3600
    refcache.invalidate()
    yield
    refcache.invalidate()


@pytest.fixture
def district(db):
    """District D (0..2 × 0..1 degrees around 120E/30N) with streets S1 (west) and S2 (east): see
    grids.testing.build_district."""
    return testing.build_district()


@pytest.fixture
def categories(db):
    return testing.build_categories()


@pytest.fixture
def departments(db):
    return testing.build_departments()


@pytest.fixture
def users(district):
    return testing.build_users()


@pytest.fixture
def teams(district):
    return testing.build_teams(district)


@pytest.fixture
def officers(users, teams, departments):
    return testing.build_officers(users, teams, departments)


@pytest.fixture
def catalog(district, departments, teams):
    """The command center's small published catalog (command_center.testing.build_catalog): problem types
    ZDJY (street vending, yellow) and YYCB (restaurant fume, orange), delegated to S1. The catalog app's
    own tests have a larger one (enforcement/tests/conftest.py)."""
    from command_center import testing as cc_testing

    return cc_testing.build_catalog()


@pytest.fixture
def report(catalog, users):
    """report(**fields) → a new event through intake (by the district platform unless client= is given)."""
    from command_center import testing as cc_testing

    return cc_testing.report_maker(users["platform"])


@pytest.fixture
def api_schema(district, users, officers, categories):
    """The API's OpenAPI schema for schemathesis (core.fuzzing), with the test district's data in place."""
    from core import fuzzing

    return fuzzing.load_api_schema()


@pytest.fixture
def auth_headers(users):
    """Token headers of the district-wide bureau staff user (the fuzz tests' caller)."""
    from core import fuzzing

    return fuzzing.token_headers(users["bureau"])


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


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker):
    """The demo district (`manage.py load_demo`) loaded ONCE a session, in a transaction rolled back, its
    rows kept: command_center.testing.capture_demo. A load takes ~30 s; the demo tests replay it in ~1-2 s."""
    from command_center import testing as cc_testing

    # Session-scoped, so before the function-scoped settings fixtures: the tests' hasher is set here.
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        return cc_testing.capture_demo()


@pytest.fixture
def demo_district(db, demo_snapshot):
    """The demo district in this test's database (rolled back after it), as load_demo leaves it: `.output`
    what the command printed, `.results` what each demo part returned (by loader path)."""
    from command_center import testing as cc_testing

    return cc_testing.restore_demo(demo_snapshot)
