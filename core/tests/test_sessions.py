"""core.sessions: a session's row read with one written-out statement, with Django's rules."""
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_signed_in_request_reads_its_session_in_one_statement(logged_in):
    client = logged_in("dispatcher")
    key = client.cookies["sessionid"].value
    with CaptureQueriesContext(connection) as counted:
        assert client.get("/api/v1/command/snapshot/").status_code == 200
    assert len([q for q in counted.captured_queries if "django_session" in q["sql"]]) == 1
    assert SessionStore(key).load()["_auth_user_id"]


def test_an_expired_or_unknown_session_is_none_and_forgets_its_key(logged_in):
    client = logged_in("dispatcher")
    key = client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    store = SessionStore(key)
    assert store.load() == {} and store.session_key is None
    assert client.get("/api/v1/command/snapshot/").status_code == 403
    assert client.get("/command/").status_code == 302  # to sign in
    unknown = SessionStore("a" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_a_session_saved_and_read_back_keeps_its_data():
    store = SessionStore()
    store["desk"] = "S1"
    store.save()
    assert SessionStore(store.session_key).load() == {"desk": "S1"}
    forged = SessionStore("abcdefgh\x00ijklmnop")  # a key Django never issues: no session, and no query
    with CaptureQueriesContext(connection) as counted:
        assert forged.session_key is None and forged.get("desk") is None
    assert not counted.captured_queries
