"""The API docs work offline: /api/docs/ loads Swagger UI from our static files (drf-spectacular-sidecar)
and fetches no font, script or image from the internet; /api/redoc/ (whose Redoc bundle fetched its logo
from cdn.redoc.ly, its page Google Fonts) now sends readers there. /favicon.ico answers."""
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("path", ["/api/redoc/", "/api/docs/"])
def test_api_docs_make_no_outside_request(browser_page, live_server, path):
    page = browser_page
    page.goto(f"{live_server.url}{path}")
    page.wait_for_selector(".swagger-ui .info", timeout=30000)
    assert page.url == f"{live_server.url}/api/docs/"
    assert not page.outside_requests, page.outside_requests
    assert not page.console_errors, page.console_errors
    assert "fonts.googleapis.com" not in page.content()


def test_redoc_address_sends_to_swagger_ui(client):
    response = client.get("/api/redoc/")
    assert response.status_code == 301 and response["Location"] == "/api/docs/"


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_pages_link_the_icon(client):
    assert 'rel="icon"' in client.get("/login/").content.decode()
