"""Severity names on the desk and the big screen in a real browser: the one set of words, in Chinese and
in English, never cut off (the queue's column and the screen's bars wrap them); the drawer names the
street, community and grid of an event without an address."""
import pytest

from command_center.testing import S1_POINT, SEVERITY_EN as EN, SEVERITY_ZH as ZH, open_dashboard
from core.browser_testing import in_thread
from core.browser_testing import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIPPED = """(sel) => Array.from(document.querySelectorAll(sel)).filter(
    (el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1).map((el) => el.textContent)"""


@pytest.mark.parametrize("language,words", [("zh-hans", ZH), ("en", EN)])
def test_severity_names_are_whole_in_the_queue_the_drawer_and_on_the_screen(
        browser_page, asgi_live_server, users, catalog, report, settings, language, words):
    settings.MAP_TILE_URL = ""
    base, page = asgi_live_server, browser_page
    events = {sev: in_thread(report, severity=sev, point=(S1_POINT[0], S1_POINT[1] + 0.01 * i))
              for i, sev in enumerate(words)}
    log_in(page, base, "dispatcher")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    open_dashboard(page, base)
    for sev, event in events.items():
        page.wait_for_selector(f".cc-row[data-id='{event.pk}']", timeout=5000)
        assert page.inner_text(f".cc-row[data-id='{event.pk}'] .cc-sev") == words[sev]
    assert page.evaluate(CLIPPED, ".cc-row .cc-sev") == []
    counters = page.inner_text(".cc-counters")
    assert all(label in counters for label in words.values())

    # The drawer of an event without an address: street, community and grid by name, no codes.
    page.click(f".cc-row[data-id='{events['red'].pk}']")
    page.wait_for_selector("#cc-drawer:not([hidden]) .cc-kv", timeout=5000)
    details = page.inner_text("#cc-drawer-body .cc-kv")
    assert "街道1" in details and "社区1 · 网格1-1" in details
    assert "S1G1" not in details and "30.2" not in details

    page.goto(f"{base}/command/screen/")
    page.wait_for_selector("#fig-severity li", timeout=10000)
    bars = page.inner_text("#fig-severity")
    assert all(label in bars for label in words.values()), bars
    assert page.evaluate(CLIPPED, "#fig-severity li span:first-child") == []
    assert page.evaluate(CLIPPED, ".screen-head .cc-counter") == []


def test_the_audit_page_in_words_meets_wcag_aa(browser_page, live_server, users, officers, report):
    """/audit/ with an event's records: labelled pickers, readable rows, no WCAG 2.1 AA violation."""
    from command_center.services import transitions
    from core.browser_testing import axe_violations, format_violations

    event = report()
    transitions.dispatch(users["dispatcher"], event, officers["s1"], reason="就近")
    page = browser_page
    log_in(page, live_server.url, "bureau")
    page.goto(f"{live_server.url}/audit/?object_type=command_center.event&object_id={event.pk}")
    assert "事件：派遣" in page.inner_text("table.audit tbody")
    assert page.get_by_label("操作人").evaluate("el => el.tagName") == "SELECT"
    assert page.get_by_label("起始日期").get_attribute("type") == "date"
    violations = axe_violations(page)
    assert not violations, format_violations(violations)
