"""Refusals on pages are our own Chinese pages (with the navigation), not Django's bare English ones."""
import pytest

pytestmark = pytest.mark.django_db


def test_forbidden_page_is_ours(client, users):
    client.force_login(users["officer_s1"])
    response = client.get("/command/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "无权访问" in body and "返回工作台" in body


def test_missing_page_is_ours(client, users):
    client.force_login(users["dispatcher"])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_api_refusals_stay_json(api, users):
    response = api(users["officer_s1"]).get("/api/v1/command/figures/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")


# --- a busy database (SQLite locked past its timeout under a burst, PostgreSQL out of connections) ---

def test_busy_database_on_a_page_is_a_503_page(client, users, monkeypatch):
    from django.db import OperationalError

    from credit import display

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(display, "ranking", locked)
    client.force_login(users["dispatcher"])
    response = client.get("/credit/ranking/")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "系统繁忙" in response.content.decode()
