"""Webhooks for other platforms: matching, signed deliveries to a real local HTTP server, failures,
backoff and retries, and that a dead endpoint never fails the request that caused the change."""
import json
import socket
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from command_center import tasks, webhooks
from command_center.models import WebhookDelivery, WebhookSubscription
from command_center.testing import S1_POINT, S2_POINT, Receiver

Status = WebhookDelivery.Status


@pytest.fixture(autouse=True)
def _tasks_inline(settings):
    """These tests are about delivery, signing and retries, so tasks run inline on both passes: the
    PostgreSQL + Redis pass would otherwise queue them for a worker that isn't there. (Celery reads
    its config from the Django settings object on each access, so overriding the setting is enough.)"""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True


@pytest.fixture
def local_allowed(settings):
    """Receivers here listen on 127.0.0.1, which webhooks refuse unless the allow-list names it."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def receiver(local_allowed):
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def refused_url(local_allowed):
    """A local port nobody listens on (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture
def subscribe(users):
    def make(url, client=None, kinds=("event.created",), areas=(), secret="s3cret", active=True):
        sub = WebhookSubscription.objects.create(client=client or users["platform"], url=url, secret=secret,
                                                 kinds=list(kinds), active=active)
        sub.areas.set(areas)
        return sub

    return make


@pytest.fixture
def intake(report, django_capture_on_commit_callbacks):
    """An event through intake, with its on-commit callbacks run (signals → deliveries → tasks, inline)."""

    def make(**fields):
        with django_capture_on_commit_callbacks(execute=True):
            return report(**fields)

    return make


def test_delivery_is_posted_signed_after_intake(receiver, subscribe, intake):
    sub = subscribe(receiver.url)
    event = intake()
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers["content-type"] == "application/json"
    assert webhooks.verify("s3cret", headers["x-webhook-timestamp"], req["body"], headers["x-webhook-signature"])
    assert not webhooks.verify("wrong", headers["x-webhook-timestamp"], req["body"], headers["x-webhook-signature"])
    assert headers["x-webhook-signature"].startswith("sha256=")
    body = json.loads(req["body"])
    delivery = WebhookDelivery.objects.get()
    assert headers["x-webhook-id"] == str(delivery.pk)
    assert body["id"] == delivery.pk and body["kind"] == "event.created" and body["sent_at"]
    assert body["event"]["id"] == event.pk and body["event"]["street_id"] == event.street_id
    assert body["event"]["status"] == event.status
    assert (delivery.subscription, delivery.event_id, delivery.status) == (sub, event.pk, Status.SUCCEEDED)
    assert delivery.attempts == 1 and delivery.last_status_code == 200 and delivery.delivered_at is not None


def test_areas_and_visibility(receiver, subscribe, intake, district, users):
    subscribe(receiver.url, areas=[district["S2"]])              # district client, S2 only
    subscribe(receiver.url, client=users["platform_s2"])          # no areas: the client's own (S2)
    subscribe(receiver.url, client=users["platform_s2"], areas=[district["S1"]])  # S1, but the client can't see it
    intake(point=S1_POINT)
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()

    intake(point=S2_POINT)
    assert len(receiver.requests) == 2
    assert WebhookDelivery.objects.filter(status=Status.SUCCEEDED).count() == 2


def test_subscription_on_a_grid_covers_events_below_it(receiver, subscribe, intake, district):
    subscribe(receiver.url, areas=[district["S1G1"]])
    subscribe(receiver.url, areas=[district["S1G2"]])
    intake(point=S1_POINT)  # in S1G1M1
    assert len(receiver.requests) == 1


def test_kinds_filter(receiver, subscribe, intake, users):
    subscribe(receiver.url, kinds=["sla.breached"])
    subscribe(receiver.url, kinds=["event.updated", "assignment.changed"])
    subscribe(receiver.url, kinds=["event.created"], active=False)
    intake()
    assert receiver.requests == []
    subscribe(receiver.url, kinds=["event.created", "sla.breached"])
    intake()
    assert [json.loads(r["body"])["kind"] for r in receiver.requests] == ["event.created"]


def test_assignment_changed_and_sla_breached_kinds(receiver, subscribe, report, users, officers,
                                                   django_capture_on_commit_callbacks):
    from command_center.services import sweep, transitions

    subscribe(receiver.url, kinds=["assignment.changed", "sla.breached"])
    event = report()
    with django_capture_on_commit_callbacks(execute=True):
        transitions.dispatch(users["dispatcher"], event, officers["s1"])
    with django_capture_on_commit_callbacks(execute=True):
        sweep.sweep_due_deadlines(now=timezone.now() + timedelta(days=1))
    kinds = [json.loads(r["body"])["kind"] for r in receiver.requests]
    assert kinds[0] == "assignment.changed" and "sla.breached" in kinds
    breach = next(json.loads(r["body"]) for r in receiver.requests if json.loads(r["body"])["kind"] == "sla.breached")
    assert breach["breach"]["stage"] and breach["event"]["id"] == event.pk


def test_a_sweeps_breaches_are_queued_by_one_task(receiver, subscribe, intake, users, district,
                                                 django_capture_on_commit_callbacks):
    """One deferred outbox row (a worker's task) for the sweep's whole batch, off the clock's path; each
    subscription gets the breaches of the events it may see; no delivery when no subscription is active."""
    from command_center.services import sweep, transitions
    from core.models import OutboxMessage

    s1_events = [intake(point=(30.1 + i * 0.1, 120.2)) for i in range(3)]
    s2_event = intake(point=S2_POINT)
    rows = OutboxMessage.objects.filter(kind="command_center.webhooks.sla_breached")
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.sweep_due_deadlines(now=timezone.now() + timedelta(days=1)) > 0
    assert rows.count() == 1 and rows.get().done_at is not None
    assert not WebhookDelivery.objects.filter(kind="sla.breached").exists()
    s2_only = subscribe(receiver.url, kinds=["sla.breached"], client=users["platform_s2"])
    everything = subscribe(receiver.url, kinds=["sla.breached"])
    for e in s1_events + [s2_event]:  # open stages again, due now
        e.deadlines.update(fired_at=None, breached_at=None)
        e.breaches.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        fired = sweep.sweep_due_deadlines(now=timezone.now() + timedelta(days=1))
    assert rows.count() == 2 and len(rows.first().payload["breaches"]) == fired
    by_sub = {}
    for d in WebhookDelivery.objects.filter(kind="sla.breached"):
        by_sub.setdefault(d.subscription_id, set()).add(d.event_id)
    assert by_sub[everything.pk] == {e.pk for e in s1_events + [s2_event]}
    assert set(by_sub) == {everything.pk, s2_only.pk} and by_sub[s2_only.pk] == {s2_event.pk}
    assert len(receiver.requests) == WebhookDelivery.objects.filter(kind="sla.breached").count() == fired + \
        s2_event.breaches.count()


def test_failing_endpoint_then_retry_after_recovery(receiver, subscribe, intake):
    receiver.status = 500
    subscribe(receiver.url)
    before = timezone.now()
    intake()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.FAILED and delivery.attempts == 1 and delivery.last_status_code == 500
    assert "500" in delivery.last_error
    assert before + timedelta(seconds=29) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=31)

    assert webhooks.retry_due() == 0  # not due yet
    assert len(receiver.requests) == 1

    receiver.status = 204
    assert webhooks.retry_due(now=delivery.next_attempt_at + timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 2 and delivery.last_status_code == 204
    assert delivery.next_attempt_at is None and delivery.last_error == "" and delivery.delivered_at is not None
    assert len(receiver.requests) == 2
    # The retried body is signed afresh and carries the same delivery id.
    req = receiver.requests[1]
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert webhooks.verify("s3cret", headers["x-webhook-timestamp"], req["body"], headers["x-webhook-signature"])
    assert json.loads(req["body"])["id"] == delivery.pk
    assert webhooks.retry_due(now=timezone.now() + timedelta(days=1)) == 0  # done: nothing more


def test_backoff_then_dead(receiver, subscribe, intake, settings):
    settings.WEBHOOK_BACKOFF_SECONDS = (30, 120)
    receiver.status = 503
    subscribe(receiver.url)
    intake()
    d = WebhookDelivery.objects.get()
    for _ in range(2):
        webhooks.retry_due(now=d.next_attempt_at + timedelta(seconds=1))
        d.refresh_from_db()
    assert d.status == Status.DEAD and d.attempts == 3 and d.next_attempt_at is None
    assert len(receiver.requests) == 3
    assert webhooks.retry_due(now=timezone.now() + timedelta(days=1)) == 0


def test_an_attempt_is_claimed_once(receiver, subscribe, intake):
    receiver.status = 500
    subscribe(receiver.url)
    intake()
    d = WebhookDelivery.objects.get()
    # A Celery retry expecting attempt 2 after the sweep already made it: no second send.
    assert webhooks.deliver(d.pk, attempts_before=1).sent
    assert not webhooks.deliver(d.pk, attempts_before=1).sent
    assert len(receiver.requests) == 2


def test_task_retries_with_celery_outside_eager_mode(receiver, subscribe, intake):
    receiver.status = 500
    subscribe(receiver.url)
    intake()
    d = WebhookDelivery.objects.get()
    tasks.deliver_webhook.push_request(is_eager=False)
    try:
        with pytest.raises(Retry):
            tasks.deliver_webhook.run(d.pk, attempts_before=1)
    finally:
        tasks.deliver_webhook.pop_request()
    d.refresh_from_db()
    assert d.attempts == 2 and d.status == Status.FAILED


def test_unreachable_endpoint_never_fails_the_intake(refused_url, subscribe, intake):
    subscribe(refused_url)
    event = intake()
    assert event.pk
    d = WebhookDelivery.objects.get()
    assert d.status == Status.FAILED and d.attempts == 1 and d.last_status_code is None and d.last_error
    assert d.next_attempt_at is not None


@pytest.mark.django_db(transaction=True)
def test_request_succeeds_with_endpoint_down(refused_url, receiver, subscribe, catalog, users, api):
    """Real commits (no test transaction): the on-commit webhook runs inside the request, inline."""
    subscribe(refused_url)
    subscribe(receiver.url)
    lat, lng = S1_POINT
    response = api(users["platform"]).post("/api/v1/events/", {
        "source": "citizen", "problem_type": "ZDJY", "description": "占道经营", "lat": lat, "lng": lng,
    }, format="json")
    assert response.status_code == 201, response.content
    statuses = dict(WebhookDelivery.objects.values_list("subscription__url", "status"))
    assert statuses == {refused_url: Status.FAILED, receiver.url: Status.SUCCEEDED}
    assert len(receiver.requests) == 1


def test_subscription_validation(users):
    from django.core.exceptions import ValidationError

    sub = WebhookSubscription(client=users["dispatcher"], url="ftp://example.org/x", kinds=["nope"])
    with pytest.raises(ValidationError) as err:
        sub.full_clean()
    assert {"client", "url", "kinds"} <= set(err.value.message_dict)
    ok = WebhookSubscription(client=users["platform"], url="https://example.org/hook", kinds=["sla.breached"])
    ok.full_clean()
    assert len(ok.secret) >= 32


def test_delivery_log_is_read_only_for_staff(receiver, subscribe, intake, users, client):
    subscribe(receiver.url)
    intake()
    d = WebhookDelivery.objects.get()
    staff = users["bureau"]
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get("/admin/command_center/webhookdelivery/").status_code == 200
    page = client.get(f"/admin/command_center/webhookdelivery/{d.pk}/change/")
    assert page.status_code == 200
    assert client.get("/admin/command_center/webhookdelivery/add/").status_code == 403
    response = client.post(f"/admin/command_center/webhookdelivery/{d.pk}/change/", {"status": "dead"})
    assert response.status_code == 403
    d.refresh_from_db()
    assert d.status == Status.SUCCEEDED
    client.force_login(users["dispatcher"])
    assert client.get("/admin/command_center/webhookdelivery/").status_code in (302, 403)


# --- addresses: never this machine or the intranet, unless the allow-list names them ------------------

INTERNAL_URLS = [
    "http://127.0.0.1:6379/", "http://localhost:6379/", "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/hook", "http://192.168.1.1/", "http://172.16.0.1/", "http://100.100.100.200/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[fd00:ec2::254]/", "http://224.0.0.1/",
    "http://0.0.0.0/", "http://240.0.0.1/",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_subscription_to_an_internal_address_is_refused_when_saved(url, users, settings):
    from django.core.exceptions import ValidationError

    sub = WebhookSubscription(client=users["platform"], url=url, kinds=["event.created"])
    with pytest.raises(ValidationError) as err:
        sub.full_clean()
    assert "url" in err.value.message_dict


def test_the_allow_list_admits_named_hosts_and_networks(users, settings):
    sub = WebhookSubscription(client=users["platform"], url="http://10.1.2.3/hook", kinds=["event.created"])
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.1.0.0/16"]
    sub.full_clean()
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.1.2.3"]
    sub.full_clean()
    WebhookSubscription(client=users["platform"], url="http://93.184.216.34/hook", kinds=["event.created"]).full_clean()


def test_a_name_resolving_to_an_internal_address_is_refused_when_saved(users, monkeypatch):
    from django.core.exceptions import ValidationError

    monkeypatch.setattr(socket, "getaddrinfo", _fake_dns({"hook.example.com": ["203.0.113.9", "10.0.0.7"]}))
    with pytest.raises(ValidationError):
        WebhookSubscription(client=users["platform"], url="https://hook.example.com/x", kinds=["event.created"]).full_clean()


def test_admin_form_refuses_an_internal_url(users, client):
    staff = users["bureau"]
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    page = client.post("/admin/command_center/webhooksubscription/add/", {
        "client": users["platform"].pk, "url": "http://169.254.169.254/latest/", "secret": "x" * 32,
        "kinds": '["event.created"]', "active": "on",
    })
    assert page.status_code == 200 and "推送地址不能指向本机或内网" in page.content.decode()
    assert not WebhookSubscription.objects.exists()


def _fake_dns(table):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            answer = table[host]
            answer = answer.pop(0) if isinstance(answer[0], list) else answer
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answer]
        return real(host, port, *args, **kwargs)

    return getaddrinfo


def test_send_to_a_local_address_without_the_allow_list_is_refused_and_not_retried(settings, subscribe, intake):
    receiver = Receiver()  # listening, but on 127.0.0.1 and no allow-list
    try:
        subscribe(receiver.url)  # saved without validation, as an old row would be
        intake()
        d = WebhookDelivery.objects.get()
        assert receiver.requests == []
        assert d.status == Status.DEAD and d.attempts == 1 and d.next_attempt_at is None
        assert d.last_error.startswith(webhooks.REFUSED_PREFIX) and d.last_status_code is None
        assert webhooks.retry_due(now=timezone.now() + timedelta(days=1)) == 0
    finally:
        receiver.close()


def test_send_connects_to_the_address_it_checked(receiver, subscribe, intake, monkeypatch, settings):
    """DNS rebinding: the name was public when saved, answers 127.0.0.1 when sent. The send resolves once,
    checks that answer and connects to that very address (Host: the name), so the check decides."""
    import httpcore

    port = receiver.server.server_address[1]
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    monkeypatch.setattr(socket, "getaddrinfo", _fake_dns({"hook.example.com": [["93.184.216.34"], ["127.0.0.1"]]}))
    sub = subscribe(f"http://hook.example.com:{port}/hook")
    sub.full_clean()  # public when saved
    intake()
    d = WebhookDelivery.objects.get()
    assert d.status == Status.DEAD and "127.0.0.1" in d.last_error and receiver.requests == []

    # Allowed: the connection is opened to the checked IP, the request still names the host.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    connected = []
    real_connect = httpcore.SyncBackend.connect_tcp
    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp",
                        lambda self, host, port, **kw: (connected.append(host), real_connect(self, host, port, **kw))[1])
    monkeypatch.setattr(socket, "getaddrinfo", _fake_dns({"hook.example.com": ["127.0.0.1"]}))
    intake()
    assert connected == ["127.0.0.1"]
    assert receiver.requests[0]["headers"]["Host"] == f"hook.example.com:{port}"


def test_the_log_keeps_a_short_excerpt_of_the_answer(receiver, subscribe, intake):
    receiver.status = 500
    receiver.answer = b"<html>" + b"secret internal page \x1b[31m " * 2000
    subscribe(receiver.url)
    intake()
    d = WebhookDelivery.objects.get()
    assert d.status == Status.FAILED and d.last_status_code == 500
    assert d.last_error.startswith("HTTP 500: <html>secret") and len(d.last_error) <= 140
    assert "\x1b" not in d.last_error


def test_a_delivery_is_handed_to_its_task_through_the_outbox(receiver, subscribe, intake,
                                                             django_capture_on_commit_callbacks):
    """Webhooks make the deliveries, the tasks send them, and an outbox row carries one to the other
    (webhooks does not import the tasks): a process that dies between making a delivery and enqueuing
    its task loses nothing, the drain enqueues it."""
    from core import outbox
    from core.models import OutboxMessage

    event = intake()  # its follow-ups done (nobody subscribed yet)
    subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=False):  # the worker matching subscriptions...
        made = webhooks.queue("event.created", event.pk, {"action": "create"})
    # ...died right after its commit: nothing was sent, the hand-over waits in the outbox.
    assert len(made) == 1 and receiver.requests == []
    row = OutboxMessage.objects.get(kind="command_center.tasks.deliver_webhook", done_at__isnull=True)
    assert row.payload == {"delivery_ids": [made[0].pk]}
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.drain(now=timezone.now() + timedelta(seconds=60)) >= 1
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get(pk=made[0].pk).status == Status.SUCCEEDED
