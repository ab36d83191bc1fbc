"""Asynchronous intake (`Prefer: respond-async`, /api/v1/event-submissions/): 202 after one write, then
the same intake service as the synchronous path, exactly once, in order per client."""
import pytest
from django.db import OperationalError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from command_center import submissions, ticker
from command_center.models import Event, EventSubmission, IdempotencyKey
from command_center.testing import S1_POINT
from core.models import OutboxMessage

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"
BULK = "/api/v1/event-submissions/"
ASYNC = {"HTTP_PREFER": "respond-async"}


def body(**over):
    return {"source": "ai_camera", "problem_type": "ZDJY", "description": "摄像头识别：流动摊贩占道",
            "lat": S1_POINT[0], "lng": S1_POINT[1], **over}


@pytest.fixture(autouse=True)
def _fresh_backlog_estimate():
    submissions.forget_backlog_estimate()
    yield
    submissions.forget_backlog_estimate()


def drain():
    n = 0
    while submissions.process_next():
        n += 1
    return n


@pytest.fixture
def checked_rarely(settings):
    """The backlog count and the per-process caches' periodic checks (a query every second or few, not
    per request) out of the query counts: on a loaded machine a test can outlast their interval."""
    settings.EVENT_SUBMISSION_BACKLOG_CHECK_SECONDS = 3600
    settings.REFERENCE_CACHE_CHECK_SECONDS = 3600


def test_respond_async_is_202_with_location_after_one_write(api, users, catalog, django_assert_num_queries,
                                                            checked_rarely):
    # Token auth, as machine feeds call: each request has a fresh user object, so the role check reads
    # the per-process copy of the roles (core.refcache), not roles cached on a reused user.
    key = Token.objects.create(user=users["platform"]).key
    c = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    assert c.post(URL, body(), format="json", **ASYNC).status_code == 202  # loads token, roles, backlog
    EventSubmission.objects.all().delete()
    with django_assert_num_queries(1) as ctx:  # the INSERT: no role query, no routing, no event, no outbox
        r = c.post(URL, body(), format="json", **ASYNC)
    assert r.status_code == 202, r.content
    assert "insert" in ctx.captured_queries[0]["sql"].lower()
    with django_assert_num_queries(1):  # the same for a batch
        assert c.post(BULK, {"events": [body(), body()]}, format="json").status_code == 202
    EventSubmission.objects.exclude(pk=r.json()["id"]).delete()
    sub = EventSubmission.objects.get()
    assert r["Location"] == f"/api/v1/event-submissions/{sub.pk}/" == r.json()["location"]
    assert r["Preference-Applied"] == "respond-async"
    assert sub.status == "pending" and sub.payload == body() and sub.client == users["platform"]
    assert not Event.objects.exists() and not OutboxMessage.objects.exists()

    pending = c.get(r["Location"])
    assert pending.status_code == 200 and pending.json()["status"] == "pending" and pending.json()["event"] is None
    assert pending["Retry-After"]

    assert drain() == 1
    done = c.get(r["Location"]).json()
    event = Event.objects.get()
    assert done["status"] == "done" and done["event_id"] == event.pk and done["event_url"] == f"/api/v1/events/{event.pk}/"
    same = c.get(f"/api/v1/events/{event.pk}/").json()
    assert done["event"] == same  # the representation the synchronous path gives
    assert event.client == users["platform"] and event.source == "ai_camera"


def test_sync_path_unchanged_without_the_preference_and_for_multipart(api, users, catalog):
    c = api(users["platform"])
    assert c.post(URL, body(), format="json").status_code == 201
    assert c.post(URL, body(external_id="mp-1"), format="multipart", **ASYNC).status_code == 201  # photos: sync only
    assert not EventSubmission.objects.exists()


def test_prefer_header_parsing(rf):
    from command_center.api.submissions import prefers_async

    def req(prefer, ctype="application/json"):
        from rest_framework.request import Request

        return Request(rf.post("/", data=b"{}", content_type=ctype, HTTP_PREFER=prefer))

    assert prefers_async(req("respond-async"))
    assert prefers_async(req("wait=10, Respond-Async"))
    assert prefers_async(req("return=minimal; foo=bar, respond-async; x"))
    assert not prefers_async(req("return=representation"))
    assert not prefers_async(req("respond-async", "multipart/form-data; boundary=x"))


def test_validation_errors_surface_as_the_sync_path_gives_them(api, users, catalog):
    c = api(users["platform"])
    bad = body(source="pigeon", lat=95)
    sync = c.post(URL, {**bad, "external_id": "x"}, format="json")
    r = c.post(URL, bad, format="json", **ASYNC)
    assert r.status_code == 202
    drain()
    out = c.get(r["Location"]).json()
    assert out["status"] == "failed" and out["error_status"] == 400 and out["event"] is None
    assert set(out["errors"]) == {"source", "lat"} and all(isinstance(v, list) for v in out["errors"].values())
    assert sync.status_code == 400 and set(sync.json()) == {"source", "lat"}
    # A report outside the client's areas: the sync 403's body.
    s2 = api(users["platform_s2"]).post(URL, body(), format="json", **ASYNC)
    drain()
    out = api(users["platform_s2"]).get(s2["Location"]).json()
    assert out["status"] == "failed" and out["error_status"] == 403 and set(out["errors"]) == {"detail", "code"}


def test_not_a_json_object_is_400_at_once(api, users, catalog):
    r = api(users["platform"]).post(URL, [body()], format="json", **ASYNC)
    assert r.status_code == 400 and not EventSubmission.objects.exists()


def test_refusals_anonymous_and_a_user_without_a_role_at_once_nothing_stored(api, users, catalog):
    assert api().post(URL, body(), format="json", **ASYNC).status_code in (401, 403)
    assert api().post(BULK, {"events": [body()]}, format="json").status_code in (401, 403)
    assert not EventSubmission.objects.exists()
    roleless = users["nobody"]
    roleless.groups.clear()
    key = Token.objects.create(user=roleless).key
    for language in ("zh-hans", "en"):
        c = APIClient(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE=language)
        sync = c.post(URL, body(), format="json")
        assert sync.status_code == 403 and set(sync.json()) == {"detail", "code"}
        one = c.post(URL, body(), format="json", **ASYNC)
        assert (one.status_code, one.json()) == (403, sync.json()) and "Location" not in one
        many = c.post(BULK, {"events": [body(), body()]}, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert (many.status_code, many.json()) == (403, sync.json())
        # As synchronously, the role is checked before the body: a bad one is still the 403.
        assert c.post(URL, [body()], format="json", **ASYNC).json() == sync.json()
        assert c.post(BULK, {"events": []}, format="json").json() == sync.json()
    assert sync.json()["detail"] == "Your role may not report events."
    assert not EventSubmission.objects.exists() and not Event.objects.exists()


def test_a_role_withdrawn_after_acceptance_is_refused_in_the_outcome(api, users, catalog):
    client = users["platform"]
    r = api(client).post(URL, body(), format="json", **ASYNC)
    assert r.status_code == 202
    client.groups.clear()  # before the worker runs it: intake checks the roles again
    drain()
    out = api(users["platform"]).get(r["Location"]).json()
    assert out["status"] == "failed" and out["error_status"] == 403 and not Event.objects.exists()


def test_only_the_submitting_client_or_staff_reads_it(api, users, catalog):
    r = api(users["platform"]).post(URL, body(), format="json", **ASYNC)
    loc = r["Location"]
    assert api(users["platform_s2"]).get(loc).status_code == 404
    assert api(users["dispatcher"]).get(loc).status_code == 404
    assert api().get(loc).status_code in (401, 403)
    assert api(users["platform"]).get("/api/v1/event-submissions/999999/").status_code == 404
    staff = users["bureau"]
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    assert api(staff).get(loc).status_code == 200


def test_idempotency_same_key_same_submission_and_event(api, users, catalog):
    c = api(users["platform"])
    a = c.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="cam-1", **ASYNC)
    b = c.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="cam-1", **ASYNC)
    assert a.status_code == b.status_code == 202 and a["Location"] == b["Location"]
    assert EventSubmission.objects.count() == 1
    other = c.post(URL, body(description="另一内容"), format="json", HTTP_IDEMPOTENCY_KEY="cam-1", **ASYNC)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    drain()
    event = Event.objects.get()
    # The key is the sync path's too: a synchronous retry with it finds the same event, and vice versa.
    sync = c.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="cam-1")
    assert sync.status_code == 200 and sync.json()["id"] == event.pk
    assert IdempotencyKey.objects.get(key="cam-1").event == event
    c.post(URL, body(external_id="E-9"), format="json")
    again = c.post(URL, body(external_id="E-9"), format="json", **ASYNC)
    drain()
    assert c.get(again["Location"]).json()["event_id"] == Event.objects.get(external_id="E-9").pk
    assert Event.objects.count() == 2


def test_key_reused_with_another_body_after_sync_fails_with_the_sync_422(api, users, catalog):
    c = api(users["platform"])
    assert c.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    r = c.post(URL, body(description="别的"), format="json", HTTP_IDEMPOTENCY_KEY="k", **ASYNC)
    drain()
    out = c.get(r["Location"]).json()
    assert out["status"] == "failed" and out["error_status"] == 422 and out["errors"]["code"] == "idempotency_key_reused"


def test_processed_exactly_once_and_in_order_per_client(api, users, catalog):
    a, b = api(users["platform"]), api(users["platform_s2"])
    for i in range(3):
        a.post(URL, body(external_id=f"A{i}"), format="json", **ASYNC)
    b.post(URL, body(external_id="B0", lat=30.2, lng=121.2), format="json", **ASYNC)
    assert drain() == 4 and drain() == 0
    events = list(Event.objects.filter(client=users["platform"]).order_by("id").values_list("external_id", flat=True))
    assert events == ["A0", "A1", "A2"]
    assert set(EventSubmission.objects.values_list("status", "attempts")) == {("done", 1)}
    assert Event.objects.count() == 4


def test_a_client_waits_while_its_first_submission_is_held(api, users, catalog, monkeypatch):
    """What a second worker sees while the first holds a client's oldest submission: its later ones are not
    taken (the lock is simulated by hiding the held row from the claim, as SKIP LOCKED does)."""
    c = api(users["platform"])
    first = c.post(URL, body(external_id="A0"), format="json", **ASYNC)
    c.post(URL, body(external_id="A1"), format="json", **ASYNC)
    held = int(first["Location"].rstrip("/").rsplit("/", 1)[1])
    real_claim = submissions._claim

    def claim_skipping_held(now):
        sub = real_claim(now)
        return None if sub is not None and sub.pk == held else sub

    monkeypatch.setattr(submissions, "_claim", claim_skipping_held)
    assert submissions.process_next() is False and not Event.objects.exists()


def test_durable_followups_via_the_outbox(api, users, catalog):
    c = api(users["platform"])
    c.post(URL, body(external_id="sync"), format="json")
    c.post(URL, body(external_id="async"), format="json", **ASYNC)
    drain()
    for ext in ("sync", "async"):
        event = Event.objects.get(external_id=ext)
        kinds = {m.kind for m in OutboxMessage.objects.all() if m.payload.get("event_id") == event.pk
                 or m.payload.get("event", {}).get("id") == event.pk}
        assert kinds, f"no outbox rows for the {ext} event"


def test_bulk_202_with_each_location_and_limit(api, users, catalog, settings):
    c = api(users["platform"])
    r = c.post(BULK, {"events": [body(external_id=f"B{i}") for i in range(3)]}, format="json")
    assert r.status_code == 202, r.content
    subs = r.json()["submissions"]
    assert [s["status"] for s in subs] == ["pending"] * 3 and len({s["location"] for s in subs}) == 3
    drain()
    assert Event.objects.count() == 3
    over = c.post(BULK, {"events": [body()] * 501}, format="json")
    assert over.status_code == 400 and "500" in over.json()["events"][0]
    assert c.post(BULK, {"events": []}, format="json").status_code == 400
    assert c.post(BULK, {"events": [body(), 3]}, format="json").status_code == 400
    assert c.post(BULK, [body()], format="json").status_code == 400
    assert EventSubmission.objects.count() == 3


def test_bulk_idempotency(api, users, catalog):
    c = api(users["platform"])
    batch = {"events": [body(external_id=f"B{i}") for i in range(2)]}
    a = c.post(BULK, batch, format="json", HTTP_IDEMPOTENCY_KEY="batch-1").json()
    b = c.post(BULK, batch, format="json", HTTP_IDEMPOTENCY_KEY="batch-1").json()
    assert a == b and EventSubmission.objects.count() == 2
    changed = {"events": [body(external_id="B0"), body(external_id="other")]}
    assert c.post(BULK, changed, format="json", HTTP_IDEMPOTENCY_KEY="batch-1").status_code == 422


def test_backpressure_503_with_retry_after_keeps_nothing(api, users, catalog, settings):
    settings.EVENT_SUBMISSION_MAX_BACKLOG = 2
    settings.EVENT_SUBMISSION_RETRY_AFTER_SECONDS = 7
    c = api(users["platform"])
    assert c.post(BULK, {"events": [body(), body()]}, format="json").status_code == 202
    r = c.post(URL, body(), format="json", **ASYNC)
    assert r.status_code == 503 and r["Retry-After"] == "7" and r.json()["code"] == "backlog_full"
    assert c.post(BULK, {"events": [body()]}, format="json").status_code == 503
    assert EventSubmission.objects.count() == 2
    assert c.post(URL, body(), format="json").status_code == 201  # the synchronous path is not held back
    drain()
    submissions.forget_backlog_estimate()
    assert c.post(URL, body(), format="json", **ASYNC).status_code == 202


def test_busy_database_is_retried_with_backoff(monkeypatch):
    calls, waits = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("database is locked")
        return True

    assert submissions.with_busy_retries(flaky, sleep=waits.append) is True
    assert waits == [0.05, 0.1]

    def always():
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError):
        submissions.with_busy_retries(always, sleep=waits.append)


def test_an_unexpected_error_is_retried_later_then_failed(api, users, catalog, monkeypatch, settings):
    settings.EVENT_SUBMISSION_MAX_ATTEMPTS = 2
    c = api(users["platform"])
    r = c.post(URL, body(), format="json", **ASYNC)

    def broken(*a, **kw):
        raise RuntimeError("bug")

    monkeypatch.setattr(submissions.intake, "intake_event", broken)
    assert submissions.process_next() is True
    sub = EventSubmission.objects.get()
    assert sub.status == "pending" and sub.attempts == 1 and "bug" in sub.last_error
    assert submissions.process_next() is False  # waiting for its backoff
    EventSubmission.objects.update(available_at=sub.created_at)
    submissions.process_next()
    out = c.get(r["Location"]).json()
    assert out["status"] == "failed" and out["error_status"] == 500


def test_errors_in_the_senders_language(api, users, catalog):
    c = api(users["platform"])
    r = c.post(URL, body(source="pigeon"), format="json", HTTP_ACCEPT_LANGUAGE="en", **ASYNC)
    drain()
    message = c.get(r["Location"]).json()["errors"]["source"][0]
    assert "must be one of" in message.lower() or "one of" in message.lower(), message


def test_work_and_the_embedded_ticker(api, users, catalog):
    api(users["platform"]).post(URL, body(), format="json", **ASYNC)
    assert submissions.work(seconds=5) == 1
    assert "start_submissions" in ticker.start_if_embedded.__code__.co_names


def test_desk_shows_the_backlog(client, api, users, catalog):
    api(users["platform"]).post(BULK, {"events": [body(), body()]}, format="json")
    client.force_login(users["dispatcher"])
    page = client.get("/command/")
    assert page.status_code == 200
    assert b'data-count="backlog">2<' in page.content
    assert api(users["dispatcher"]).get("/api/v1/command/figures/").json()["submissions_backlog"] == 2


def test_schema_documents_the_async_path(api, users):
    schema = api(users["bureau"]).get("/api/schema/?format=json").json()
    post = schema["paths"]["/api/v1/events/"]["post"]
    assert {"202", "503"} <= set(post["responses"])
    assert any(p["name"] == "Prefer" for p in post["parameters"])
    bulk = schema["paths"]["/api/v1/event-submissions/"]["post"]
    assert {"202", "503", "400"} <= set(bulk["responses"])
    assert "200" in schema["paths"]["/api/v1/event-submissions/{id}/"]["get"]["responses"]


def test_the_worker_command_processes_until_empty(api, users, catalog):
    from io import StringIO

    from django.core.management import call_command

    api(users["platform"]).post(BULK, {"events": [body(external_id="W1"), body(external_id="W2")]}, format="json")
    out = StringIO()
    call_command("process_event_submissions", "--until-empty", stdout=out)
    assert out.getvalue().startswith("processed 2") and Event.objects.count() == 2


def test_a_field_that_is_no_text_is_refused_as_the_sync_path_refuses_it(api, users, catalog):
    """An object, a list or a boolean where text belongs: 400 on both paths, the same fields, nothing stored
    as the value's Python repr."""
    c = api(users["platform"])
    bad = body(description={"text": "占道"}, reporter_name=["张三"], address=True)
    sync = c.post(URL, bad, format="json")
    r = c.post(URL, bad, format="json", **ASYNC)
    assert r.status_code == 202
    drain()
    out = c.get(r["Location"]).json()
    assert sync.status_code == 400 and out["status"] == "failed" and out["error_status"] == 400
    assert set(out["errors"]) == set(sync.json()) == {"description", "reporter_name", "address"}
    assert out["errors"]["description"] == sync.json()["description"] == ["不是有效的字符串。"]
    assert not Event.objects.exists()


def test_text_that_a_json_column_refuses_is_kept_and_answered_by_validation(api, users, catalog):
    """A NUL or a lone surrogate in a machine's report (PostgreSQL's jsonb refuses both): the one write
    still succeeds, and the submission's outcome is the synchronous path's 400, never a server error."""
    import json

    c = api(users["platform"])
    raw = json.dumps(body(description="坏\u0000字", reporter_name="\udab1"))  # ASCII, escapes as a machine sends them
    r = c.post(URL, raw, content_type="application/json", **ASYNC)
    assert r.status_code == 202, r.content
    assert drain() == 1
    outcome = c.get(r["Location"]).json()
    sync = c.post(URL, raw, content_type="application/json")
    assert outcome["status"] == "failed" and sync.status_code == 400
    # the same fields refused (the words may differ: DRF's fields answer the synchronous request first)
    assert set(outcome["errors"]) == set(sync.json()) >= {"description", "reporter_name"}
