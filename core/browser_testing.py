"""What the browser tests share (pytest -m browser): Debian's Chromium through Playwright (never a
downloaded browser), pages that record what the Content Security Policy refuses and every request that
leaves this machine, and signing in through the login form.

The fixtures built on it are in the root conftest.py: `browser_page` (a desk-sized page) and
`browser_pages` (a factory: `browser_pages(viewport=..., is_mobile=True, geolocation=...)`).
"""
import os
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"  # screenshots (gitignored)
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL_ORIGINS = ("http://127.0.0.1:", "http://localhost:", "ws://127.0.0.1:", "ws://localhost:", "data:", "blob:")
DESK = {"width": 1440, "height": 900}
PASSWORD = "pass-word-1"  # the conftest users' password


def chromium() -> str | None:
    return CHROMIUM_PATH if os.path.exists(CHROMIUM_PATH) else shutil.which("chromium")


def under_csp(page):
    """Ready `page` for pages under the Content Security Policy. Its refusals (an inline script or handler,
    a style attribute, a foreign host) are console messages, not page errors: count them as errors too.
    And Playwright's wait_for_function() evaluates its string with eval() in the page, which the policy
    (rightly) refuses: poll with evaluate() instead, which goes through DevTools and is not subject to it."""
    page.on("console", lambda m: page.console_errors.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text else None)

    def wait_for_function(expression, *, arg=None, timeout=None, polling=None):
        deadline = time.monotonic() + (30000 if timeout is None else timeout) / 1000
        while True:
            value = page.evaluate(expression, arg)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout} ms: {expression}")
            page.wait_for_timeout(20)

    page.wait_for_function = wait_for_function


@contextmanager
def page_factory(executable):
    """Yields new_page(local_origins=LOCAL_ORIGINS, **context_options): a page in a context of its own
    (a separate session), recording page errors and CSP refusals (`page.console_errors`) and requests to
    anywhere but `local_origins` (`page.outside_requests`: there must be none, assets are vendored).
    `page.new_user_page()` opens another desk-sized one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)

        def new_page(local_origins=LOCAL_ORIGINS, **context_options):
            context_options.setdefault("viewport", DESK)
            page = browser.new_context(**context_options).new_page()
            page.outside_requests, page.console_errors = [], []
            page.on("request", lambda r: None if r.url.startswith(tuple(local_origins)) else page.outside_requests.append(r.url))
            page.on("pageerror", lambda e: page.console_errors.append(str(e)))
            under_csp(page)
            page.new_user_page = new_page
            return page

        yield new_page
        browser.close()


def log_in(page, base, username, password=PASSWORD, then="/"):
    """Sign in through the login form; `then`: where the form sends the user (the page waits for it)."""
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{then}")


def in_thread(fn, *args, **kwargs):
    """Run a service from a plain thread: Playwright's sync API keeps an event loop in the test's thread,
    and the live push (async_to_sync onto the consumers' loop) must not start from inside a loop."""
    box = {}

    def run():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 — re-raised in the test's thread
            box["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    if "error" in box:
        raise box["error"]
    return box.get("value")


# axe-core 4.14.1 (MPL-2.0, Deque Systems), vendored for the tests only: the accessibility check of pages.
AXE_SOURCE = os.path.join(os.path.dirname(__file__), "test_assets", "axe-4.14.1.min.js")
WCAG_AA_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


def axe_violations(page, tags=WCAG_AA_TAGS, exclude=()):
    """Run axe-core over the page as it stands and return its violations of `tags` as short dicts
    (rule id, impact, help, the first few offending nodes). axe is evaluated through DevTools, so the
    page's Content Security Policy (no inline scripts) does not block it. `exclude`: CSS selectors
    axe should skip (say why at the call site)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        with open(AXE_SOURCE, encoding="utf-8") as f:
            page.evaluate(f.read())
    result = page.evaluate(
        """async ([tags, exclude]) => {
            const context = exclude.length ? {include: [document], exclude: exclude.map(s => [s])} : document;
            const r = await window.axe.run(context, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.length, targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
                summary: (v.nodes[0] || {}).failureSummary || ''}));
        }""",
        [list(tags), list(exclude)],
    )
    return result


def format_violations(violations) -> str:
    """One line per violated rule, for an assertion message a developer can act on."""
    return "\n".join(f"{v['id']} ({v['impact']}, {v['nodes']} nodes): {v['help']} — e.g. {v['targets'][:3]}"
                     for v in violations)


def _read_uncommitted(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")


@contextmanager
def asgi_server():
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
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        connection_created.disconnect(_read_uncommitted)
