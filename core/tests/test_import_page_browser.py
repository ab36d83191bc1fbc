"""The shared upload → preview → confirm page (core.import_page) in a real browser, under the strict CSP:
the grids and the catalog imports both preview, then write what was previewed, with no CSP refusal."""
import pytest

from core.tabular import write_table

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-word-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _preview_then_confirm(page, url, kind, filename, content: bytes):
    page.goto(url)
    page.select_option("select[name=kind]", kind)
    page.set_input_files("input[name=file]", files=[{"name": filename, "mimeType": "text/csv", "buffer": content}])
    page.click("form.card button[type=submit]")
    page.wait_for_selector("#import-report")
    assert "确认写入" in page.inner_text("#import-report")
    page.click("#import-report button[type=submit]")
    page.wait_for_url(url)
    return page.content()


def test_both_imports_preview_and_write_under_the_csp(browser_page, live_server, users, district, categories, departments):
    from enforcement.models import Matter
    from grids.models import Subject

    page = browser_page
    _login(page, live_server, "bureau")
    subjects = "name,category_code,lat,lng\n老王面馆,FOOD-R,30.2,120.2\n".encode()
    html = _preview_then_confirm(page, f"{live_server.url}/subjects/import/", "subjects", "s.csv", subjects)
    assert "新增 1" in html and Subject.objects.filter(name="老王面馆").exists()
    matters = write_table("csv", ["code", "name", "law", "department_code", "kind", "domain"],
                          [["N-1", "新事项", "《法》", "ZHZF", "inspection", "市容环卫"]])
    html = _preview_then_confirm(page, f"{live_server.url}/catalog/import/", "matters", "m.csv", matters)
    assert "新增 1" in html and Matter.objects.filter(code="N-1").exists()
    assert not page.console_errors, page.console_errors
    assert not page.outside_requests, page.outside_requests
