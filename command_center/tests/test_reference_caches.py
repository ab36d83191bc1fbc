"""Reference data intake reads from per-process copies (core.refcache, enforcement.routing): a change
reaches the next intake at once when this process made it, and within the check interval when another
process did (a write no signal of ours sees: QuerySet.update(), raw SQL; the database's triggers bump
the counter the check reads)."""
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from command_center.models import SlaPolicy, WebhookDelivery, WebhookSubscription
from command_center.services import intake
from command_center.testing import S1_POINT
from core.exceptions import Forbidden
from core.models import ReferenceVersion
from grids.models import AreaMembership

pytestmark = pytest.mark.django_db

STAGES = [{"stage": "arrive", "minutes": 7, "met_by": "arrive", "escalate_to": "team_leader"}]


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def report(client, **over):
    data = {"source": "citizen", "problem_type": "ZDJY", "description": "占道经营", "lat": S1_POINT[0],
            "lng": S1_POINT[1], **over}
    return intake.intake_event(fresh(client), data)[0]


def minutes(event):
    return [round((d.due_at - event.created_at).total_seconds() / 60) for d in event.deadlines.all()]


def other_process_writes(sql, params=()):
    """A write as another process makes it: raw SQL, no signal reaches this process's caches."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_sla_policy_saved_here_is_used_by_the_next_intake(catalog, users, district):
    assert minutes(report(users["platform"])) != [7]
    SlaPolicy.objects.create(name="七分钟", street=district["S1"], severity="yellow", stages=STAGES)
    assert minutes(report(users["platform"])) == [7]


def test_sla_policy_changed_by_another_process(catalog, users, district, settings):
    settings.REFERENCE_CACHE_CHECK_SECONDS = 3600
    before = minutes(report(users["platform"]))
    other_process_writes("UPDATE command_center_slapolicy SET stages = %s WHERE street_id IS NULL AND severity = %s",
                         ['[{"stage": "arrive", "minutes": 7, "met_by": "arrive", "escalate_to": "team_leader"}]',
                          "yellow"])
    assert minutes(report(users["platform"])) == before, "the process's copy is used until the next check"
    settings.REFERENCE_CACHE_CHECK_SECONDS = 0
    assert minutes(report(users["platform"])) == [7]


def test_the_triggers_bump_the_counters(district, users):
    def n(topic):
        return ReferenceVersion.objects.get(topic=topic).n

    before = {t: n(t) for t in ("sla", "webhooks", "users")}
    other_process_writes("UPDATE command_center_slapolicy SET name = name")
    other_process_writes("UPDATE grids_areamembership SET area_id = area_id")
    sub = WebhookSubscription.objects.create(client=users["platform"], url="https://example.org/h", secret="s",
                                             kinds=["event.created"])
    assert n("sla") > before["sla"] and n("users") > before["users"] and n("webhooks") > before["webhooks"]
    before = n("webhooks")
    sub.areas.add(district["S1"])
    assert n("webhooks") > before


def test_users_areas_changed_by_another_process(catalog, users, district, settings):
    settings.REFERENCE_CACHE_CHECK_SECONDS = 3600
    leader = users["leader_s1"]
    assert report(leader).street_id == district["S1"].pk
    other_process_writes("UPDATE grids_areamembership SET area_id = %s WHERE user_id = %s", [district["S2"].pk, leader.pk])
    settings.REFERENCE_CACHE_CHECK_SECONDS = 0
    with pytest.raises(Forbidden):
        report(leader)


def test_users_areas_changed_here(catalog, users, district):
    leader = users["leader_s1"]
    report(leader)
    AreaMembership.objects.filter(user=leader).delete()  # signals: this process drops its copy at once
    AreaMembership.objects.create(user=leader, area=district["S2"])
    with pytest.raises(Forbidden):
        report(leader)


def test_roles_changed_by_another_process(catalog, users, settings):
    settings.REFERENCE_CACHE_CHECK_SECONDS = 3600
    report(users["leader_s1"])
    other_process_writes("DELETE FROM auth_user_groups WHERE user_id = %s", [users["leader_s1"].pk])
    settings.REFERENCE_CACHE_CHECK_SECONDS = 0
    with pytest.raises(Forbidden):
        report(users["leader_s1"])


def test_catalog_changed_by_another_process(catalog, users, settings):
    """Routing's snapshot (enforcement.routing) checks its revision counter the same way."""
    from enforcement.models import RoutingRevision

    settings.CATALOG_CACHE_CHECK_SECONDS = 3600
    assert report(users["platform"]).severity == "yellow"
    other_process_writes("UPDATE enforcement_problemtype SET default_severity = 'red' WHERE code = 'ZDJY'")
    RoutingRevision.objects.filter(pk=1).update(n=RoutingRevision.objects.get(pk=1).n + 1)
    settings.CATALOG_CACHE_CHECK_SECONDS = 0
    assert report(users["platform"]).severity == "red"


def test_catalog_changed_here(catalog, users):
    from enforcement.services import power as power_services

    assert report(users["platform"]).severity == "yellow"
    power_services.save_problem_type(None, code="ZDJY", name="占道经营", matter_code="M-ZD", default_severity="orange")
    assert report(users["platform"]).severity == "orange"


def test_webhook_subscription_changed_by_another_process(catalog, users, settings, django_capture_on_commit_callbacks):
    # A local address the egress check refuses at sending time: the delivery row is made, nothing leaves.
    sub = WebhookSubscription.objects.create(client=users["platform"], url="http://127.0.0.1:9/hook", secret="s",
                                             kinds=["event.created"])
    settings.CELERY_TASK_ALWAYS_EAGER = True

    def deliveries_of_a_new_event():
        with django_capture_on_commit_callbacks(execute=True):
            event = report(users["platform"])
        return WebhookDelivery.objects.filter(subscription=sub, event=event).count()

    assert deliveries_of_a_new_event() == 1
    settings.REFERENCE_CACHE_CHECK_SECONDS = 0
    other_process_writes("UPDATE command_center_webhooksubscription SET active = %s WHERE id = %s", [False, sub.pk])
    assert deliveries_of_a_new_event() == 0
    settings.REFERENCE_CACHE_CHECK_SECONDS = 3600
    sub.active = True
    sub.save()  # here: dropped at once
    assert deliveries_of_a_new_event() == 1


def test_a_revoked_token_is_refused(api, users, settings):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=users["platform"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/events/").status_code == 200
    settings.REFERENCE_CACHE_CHECK_SECONDS = 0
    other_process_writes("DELETE FROM authtoken_token WHERE key = %s", [token.key])
    assert client.get("/api/v1/events/").status_code in (401, 403)  # (DRF: 403 when session auth comes first)
    token = Token.objects.create(user=users["platform"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/events/").status_code == 200
    settings.REFERENCE_CACHE_CHECK_SECONDS = 3600
    users["platform"].is_active = False
    users["platform"].save()  # here: dropped at once
    assert client.get("/api/v1/events/").status_code in (401, 403)  # (DRF: 403 when session auth comes first)


def test_a_session_reads_its_user_without_a_query_and_sees_a_change_made_elsewhere(logged_in, users, settings):
    """The desk's requests carry a session: its user comes from this process's copy (core.authentication),
    one query for the session row and none for the user; a deactivation or a new password by another
    process ends the session within the check interval, one made here at once."""
    client = logged_in("dispatcher")
    assert client.get("/api/v1/command/snapshot/").status_code == 200
    with CaptureQueriesContext(connection) as counted:
        assert client.get("/api/v1/command/snapshot/").status_code == 200
    assert [q for q in counted.captured_queries if "django_session" in q["sql"]]
    assert not [q for q in counted.captured_queries if "auth_user" in q["sql"]]

    settings.REFERENCE_CACHE_CHECK_SECONDS = 0
    other_process_writes("UPDATE auth_user SET is_active = %s WHERE id = %s", [False, users["dispatcher"].pk])
    assert client.get("/api/v1/command/snapshot/").status_code == 403
    other_process_writes("UPDATE auth_user SET is_active = %s WHERE id = %s", [True, users["dispatcher"].pk])
    client = logged_in("dispatcher")
    assert client.get("/api/v1/command/snapshot/").status_code == 200
    other_process_writes("UPDATE auth_user SET password = %s WHERE id = %s", ["!changed", users["dispatcher"].pk])
    assert client.get("/api/v1/command/snapshot/").status_code == 403  # the session's hash no longer matches
    assert client.get("/command/").status_code == 302  # the page sends it to sign in

    settings.REFERENCE_CACHE_CHECK_SECONDS = 3600
    client = logged_in("leader_s1")
    assert client.get("/api/v1/command/snapshot/").status_code == 200
    leader = fresh(users["leader_s1"])
    leader.is_active = False
    leader.save()  # here: dropped at once
    assert client.get("/api/v1/command/snapshot/").status_code == 403


def test_each_request_gets_its_own_user_object(logged_in, users):
    """A request caches roles and areas on its user: two requests never share one (kept is the row)."""
    from core.authentication import CachedModelBackend

    backend = CachedModelBackend()
    first, second = backend.get_user(users["dispatcher"].pk), backend.get_user(users["dispatcher"].pk)
    assert first == second and first is not second and first.username == "dispatcher"
    assert backend.get_user(10**9) is None and backend.get_user(10**9) is None  # a miss is not kept
