"""Fixtures for the command center (built by command_center.testing): a small published catalog, a
helper that reports events, a crew of officers, tasks inline, the push's sent messages, and the ASGI
server the live browser tests use."""
import socket
import threading
import time

import pytest

from command_center import push, testing


@pytest.fixture(autouse=True)
def _dispatchable_officers(request):
    """The shared officers as the desk meets them in the command center's tests: on duty, a fresh position
    at their street's point, 李四 also qualified for the comprehensive enforcement
    department's matters, so the desk's pick needs no override (dispatching.OVERRIDABLE). Tests of the
    ranking or the override set them otherwise."""
    if "officers" not in request.fixturenames:
        return
    testing.make_dispatchable(request.getfixturevalue("officers"))


@pytest.fixture
def crew(users, officers, teams, departments):
    """Officers of S1 placed north of S1_POINT at the given distances (metres)."""
    return testing.build_crew(teams, departments)


@pytest.fixture
def inline_tasks(settings):
    """Automatic dispatch is a Celery task: run it inline on both passes (no worker in the tests)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True


@pytest.fixture
def sent(monkeypatch):
    """Every group message the push sends, as (group, message), instead of the channel layer (single
    sends go through the batch sender too)."""
    out = []
    monkeypatch.setattr(push, "_group_send_many", out.extend)
    return out


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
