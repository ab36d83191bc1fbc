"""Fixtures for the command center: a small published catalog, a helper that reports events, and the
ASGI server the live browser tests use."""
import socket
import threading
import time
from datetime import date

import pytest

from command_center.services import intake

# Points inside the conftest district: S1 grid 1 micro-grid 1, and S2 grid 1 micro-grid 1.
S1_POINT = (30.2, 120.2)
S2_POINT = (30.2, 121.2)


@pytest.fixture(autouse=True)
def _fresh_routing_cache():
    from enforcement import routing

    routing.invalidate()
    yield
    routing.invalidate()


@pytest.fixture
def catalog(district, departments, teams):
    """Two matters of the comprehensive enforcement department, both delegated to S1 only; problem types
    ZDJY (street vending, yellow) and YYCB (restaurant fume, orange, about a subject)."""
    from enforcement.services import catalog as catalog_services
    from enforcement.services import power as power_services

    catalog_services.create_matter(None, code="M-ZD", name="占道经营", law="《城市市容和环境卫生管理条例》", article="第三十六条",
                     department="ZHZF", kind="administrative_penalty", domain="市容")
    catalog_services.create_matter(None, code="M-YY", name="餐饮油烟超标排放", law="《大气污染防治法》", article="第一百一十八条",
                     department="ZHZF", kind="administrative_penalty", domain="环保")
    for code in ("M-ZD", "M-YY"):
        catalog_services.delegate(None, matter_code=code, street_code="S1", effective_from=date(2020, 1, 1))
    power_services.save_problem_type(None, code="ZDJY", name="占道经营", matter_code="M-ZD", default_severity="yellow")
    power_services.save_problem_type(None, code="YYCB", name="油烟超标", matter_code="M-YY", default_severity="orange", about_subject=True)
    catalog_services.publish_draft(None)
    return {"problem_types": ["ZDJY", "YYCB"]}


@pytest.fixture
def report(catalog, users):
    """report(**fields) → a new event through intake (by the district platform unless client= is given)."""

    def make(client=None, key=None, **fields):
        lat, lng = fields.pop("point", S1_POINT)
        data = {"source": "citizen", "problem_type": "ZDJY", "description": "人行道上有流动摊贩占道经营",
                "lat": lat, "lng": lng, **fields}
        event, _created = intake.intake_event(client or users["platform"], data, idempotency_key=key)
        return event

    return make


def _read_uncommitted(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")


@pytest.fixture
def asgi_live_server(transactional_db):
    """The ASGI app (HTTP + websockets, static files through Django's finders) under uvicorn on a free port,
    in a thread of this process: pytest-django's live_server speaks only HTTP, and a server in another
    process could not share the in-memory test database and channel layer. The in-memory test database is shared
    between this thread's connection and the server's (SQLite's shared cache); there a reader meeting a
    writer's table lock fails at once ("database table is locked") instead of waiting, so readers read
    without taking locks (read_uncommitted, which only shared-cache connections honour)."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connection
    from django.db.backends.signals import connection_created

    from config.asgi import application

    connection_created.connect(_read_uncommitted)
    _read_uncommitted(None, connection)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(ASGIStaticFilesHandler(application), lifespan="off", log_level="warning",
                                           ws="websockets-sansio"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()
    connection_created.disconnect(_read_uncommitted)
