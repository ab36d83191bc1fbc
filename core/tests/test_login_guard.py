"""Password guessing is limited: failed logins lock the account (from any address) and the address (over
any accounts) for a while, on the login page, the admin and the token endpoint; X-Forwarded-For is not
believed unless proxies are configured; every failure and lock-out is audited."""
import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from core.login_guard import client_ip
from core.models import AuditLog

pytestmark = pytest.mark.django_db

LIMIT = 3
GOOD = "pass-word-1"
LOCKED_ZH = "登录失败次数过多，已暂时锁定"
LOCKED_EN = "Too many failed logins"


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 6
    cache.clear()  # the token endpoint's address throttle
    yield
    cache.clear()


def page_login(username, password, *, addr="10.0.0.1", client=None, url="/login/", **headers):
    client = client or Client(REMOTE_ADDR=addr)
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=addr, **headers)


def token_login(username, password, *, addr="10.0.0.1", **headers):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json",
                            REMOTE_ADDR=addr, **headers)


def test_login_page_locks_the_account_after_the_limit(users):
    for _ in range(LIMIT - 1):
        r = page_login("dispatcher", "wrong")
        assert r.status_code == 200 and "用户名或密码不正确" in r.content.decode()
    r = page_login("dispatcher", "wrong")
    assert r.status_code == 429
    body = r.content.decode()
    assert LOCKED_ZH in body and "15 分钟" in body and '<form method="post"' in body  # a form error on the page
    # Locked: even the right password is refused, and nobody is logged in.
    client = Client()
    r = page_login("dispatcher", GOOD, client=client)
    assert r.status_code == 429 and LOCKED_ZH in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_lock_out_message_in_english_with_the_language_switch(users):
    client = Client()
    client.cookies["django_language"] = "en"
    for _ in range(LIMIT):
        r = page_login("dispatcher", "wrong", client=client)
    assert r.status_code == 429
    assert LOCKED_EN in r.content.decode() and LOCKED_ZH not in r.content.decode()
    api = APIClient()
    api.cookies["django_language"] = "en"
    r = api.post("/api/v1/auth/token/", {"username": "dispatcher", "password": GOOD}, format="json")
    assert r.status_code == 429 and r.json()["detail"].startswith(LOCKED_EN)


def test_admin_login_locks_too(users):
    for _ in range(LIMIT):
        r = page_login("bureau", "wrong", url="/admin/login/")
    assert r.status_code == 429 and LOCKED_ZH in r.content.decode()
    client = Client()
    r = page_login("bureau", GOOD, client=client, url="/admin/login/")
    assert r.status_code == 429 and "_auth_user_id" not in client.session


def test_token_endpoint_locks_with_a_json_429(users):
    for _ in range(LIMIT - 1):
        assert token_login("platform", "wrong").status_code == 400
    r = token_login("platform", "wrong")
    assert r.status_code == 429
    assert r.json()["code"] == "locked_out" and LOCKED_ZH in r.json()["detail"]
    assert r["Retry-After"] == str(15 * 60)
    r = token_login("platform", GOOD)
    assert r.status_code == 429 and "token" not in r.json()


def test_the_account_lock_holds_across_addresses_and_forwarded_headers(users):
    for i in range(LIMIT):
        page_login("dispatcher", "wrong", addr=f"10.0.1.{i}", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    r = token_login("dispatcher", GOOD, addr="10.0.9.9", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert r.status_code == 429


def test_a_changed_x_forwarded_for_does_not_escape_the_address_lock(users):
    """No trusted proxies (the default): one address guessing over many accounts is locked at the
    address limit, whatever X-Forwarded-For it sends."""
    for i in range(6):
        page_login(f"no-such-user-{i}", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    r = page_login("leader_s1", GOOD, HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert r.status_code == 429 and LOCKED_ZH in r.content.decode()
    assert page_login("leader_s1", GOOD, addr="10.0.0.2").status_code == 302  # another address is fine


def test_a_changed_x_forwarded_for_does_not_escape_the_token_throttle(users, monkeypatch):
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "3/min")
    codes = [token_login("platform", GOOD, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_another_users_login_is_unaffected(users):
    for _ in range(LIMIT):
        page_login("dispatcher", "wrong")
    client = Client()
    assert page_login("leader_s1", GOOD, client=client).status_code == 302  # same address, below its limit
    assert "_auth_user_id" in client.session
    assert token_login("platform", GOOD).status_code == 200


def test_failures_and_lock_outs_are_audited(users):
    for _ in range(LIMIT):
        page_login("dispatcher", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.1")
    page_login("dispatcher", GOOD)
    records = list(AuditLog.objects.filter(action__startswith="auth.").order_by("id"))
    assert [r.action for r in records] == ["auth.login_failed"] * LIMIT + ["auth.locked_out", "auth.login_refused"]
    assert {r.object_id for r in records} == {str(users["dispatcher"].pk)}
    assert {r.object_repr for r in records} == {"dispatcher"}
    assert {r.ip for r in records} == {"10.0.0.1"}  # the peer, not the forwarded header
    assert records[0].changes["path"] == [None, "/login/"]
    assert "locked_until" in records[LIMIT].changes
    assert AuditLog.objects.filter(action="auth.login_failed", object_repr="dispatcher").count() == LIMIT


def test_client_address_follows_the_trusted_proxy_count(settings, rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.5"
    settings.TRUSTED_PROXY_COUNT = 1  # one proxy: the address it appended
    assert client_ip(request) == "203.0.113.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"
    junk = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(junk) == "10.0.0.5"


def test_drf_throttle_does_not_trust_the_forwarded_header_by_default():
    from django.conf import settings

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0 == settings.TRUSTED_PROXY_COUNT
