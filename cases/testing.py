"""Test support for casework: a matter's proposed outcome as the services take it; the desk's live feed
as the users who hear deadline notices receive it."""
from contextlib import asynccontextmanager
from decimal import Decimal


def outcome(code="M-SHOP", *, outcome="penalty", fine="200", measures="", ground="", reason=""):
    return {"matter_code": code, "outcome": outcome, "fine": Decimal(fine), "measures": measures,
            "lenient_ground": ground, "reason": reason}


@asynccontextmanager
async def command_feeds(users, names):
    """{name: the /ws/command/ socket of users[name]}, each connected and past its hello; all closed after,
    with the worker threads' database connections (else the test database cannot be dropped)."""
    from channels.db import database_sync_to_async
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator
    from django.db import connections

    from config.routing import websocket_urlpatterns  # the project's wiring, not an app above cases

    router, socks = URLRouter(websocket_urlpatterns), {}
    try:
        for name in names:
            socks[name] = comm = WebsocketCommunicator(router, "/ws/command/")
            comm.scope["user"] = users[name]
            assert (await comm.connect(timeout=3))[0], name
            assert (await comm.receive_json_from(timeout=3))["type"] == "hello"
        yield socks
    finally:
        for comm in socks.values():
            await comm.disconnect()
        await database_sync_to_async(connections.close_all)()


def deadline_pages(page, base):
    """The pages deadline notices reach, in a browser, all live: S1's leader's desk (in `page`) and
    review page, and S2's leader's desk (which must hear nothing of S1). Returns (desk, review, other)."""
    from core.browser_testing import log_in

    def open_dashboard(desk, base):  # as command_center.testing's (cases may not import the apps above it)
        desk.goto(f"{base}/command/")
        desk.wait_for_selector("body[data-ready='1'][data-link='live']", state="attached", timeout=15000)

    log_in(page, base, "leader_s1")
    open_dashboard(page, base)
    review = page.new_user_page()
    log_in(review, base, "leader_s1")
    review.goto(f"{base}/review/")
    review.wait_for_selector("#case-alerts[data-link='live']", state="attached", timeout=8000)
    other = page.new_user_page()
    log_in(other, base, "leader_s2")
    open_dashboard(other, base)
    return page, review, other
