"""Intake's cost, pinned: SQL queries per event (so an N+1 or a needless read never creeps back) and the
bench-only baseline endpoint of bench/intake.py, which must not exist in the real settings."""
import importlib

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import Resolver404, resolve

from command_center.api.serializers import DeadlineSerializer, EventDetailSerializer
from command_center.models import Event
from command_center.services import intake
from command_center.testing import S1_POINT

pytestmark = pytest.mark.django_db

# Queries of one intake (service only), the worst case but a credit complaint: a problem type about a
# subject, an external id. The look-around (one statement: replay look-ups, nearby subjects, possible
# duplicates), INSERT event, INSERT deadlines, INSERT timeline, INSERT audit, INSERT outbox rows (push,
# webhooks, dispatch: one statement), + savepoint/release = 8 (was 14, then 10 with three separate look-ups).
# Read from per-process copies instead (core.refcache, checked every few seconds, not per request): the
# roles, the user's areas, the SLA policy; the areas of the point come from the spatial index, the problem
# type with routing's snapshot. A complaint about a subject adds its credit fact, audit record and rescoring
# row (3 INSERTs, no look-ups: credit.services.facts.post_fact new_source).
INTAKE_MAX_QUERIES = 8
# The whole POST /api/v1/events/ in the embedded default (tasks inline, so the automatic dispatch runs in
# the request: savepoint, its read of the event and of the dispatch rule, release) = 14 (was 20, then 15).
# Token and webhook subscriptions come from the per-process copies; the answer is made from the rows intake
# wrote, with one read of the event's version to see that the inline dispatch did not move it on (with a
# worker, nothing in the request can: no read at all); after the commit the UPDATE marking the outbox rows
# run in place done.
POST_MAX_QUERIES = 14


def fresh(user):
    """The user as a new request sees it (no role / area caches)."""
    return get_user_model().objects.get(pk=user.pk)


def event_data(i, **over):
    return {"source": "citizen", "problem_type": "YYCB", "description": "餐馆油烟直排", "lat": S1_POINT[0] + (i % 10) * 1e-5,
            "lng": S1_POINT[1], "external_id": f"PERF-{i}", **over}


@pytest.fixture
def checked_rarely(settings):
    """The per-process caches' periodic checks (one small query every few seconds, not per request) out
    of the count: on a loaded machine a test can take longer than their interval."""
    settings.AREA_INDEX_CHECK_SECONDS = settings.CATALOG_CACHE_CHECK_SECONDS = 3600
    settings.REFERENCE_CACHE_CHECK_SECONDS = 3600


def test_intake_reads_a_fixed_handful(report, users, django_assert_max_num_queries, checked_rarely):
    report()  # warm the routing snapshot and the spatial index, as a running server has them
    for i in range(1, 6):  # nearby open events of the same type: candidates for the duplicate check
        intake.intake_event(users["platform"], event_data(i))
    client = fresh(users["platform"])
    with django_assert_max_num_queries(INTAKE_MAX_QUERIES) as ctx:
        event, created = intake.intake_event(client, event_data(99))
    assert created and event.possible_duplicate_of_id is not None
    assert not [q for q in ctx.captured_queries if "command_center_slapolicy" in q["sql"]], "the policies are cached"


def test_post_event_queries_do_not_grow_with_events(api, users, catalog, django_assert_max_num_queries,
                                                    django_capture_on_commit_callbacks, checked_rarely):
    client = api(users["platform"])
    # The first warms the routing snapshot, the spatial index and the caches, as a running server has them.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/v1/events/", event_data(0, problem_type="ZDJY"), format="json").status_code == 201
    counts = []
    for i in range(1, 4):
        with django_assert_max_num_queries(POST_MAX_QUERIES) as ctx:
            with django_capture_on_commit_callbacks(execute=True):
                r = client.post("/api/v1/events/", event_data(i, problem_type="ZDJY"), format="json")
        assert r.status_code == 201, r.content
        counts.append(len(ctx.captured_queries))
    assert len(set(counts)) == 1, counts
    assert Event.objects.count() == 4


def test_cached_serializer_fields_are_per_instance(report, users):
    event = report()
    a = EventDetailSerializer(event, context={"may_see_phones": False})
    b = EventDetailSerializer(event, context={"may_see_phones": True})
    assert a.fields["status"] is not b.fields["status"] and a.fields["status"].parent is a
    assert a.data["reporter_phone"] == b.data["reporter_phone"] == ""
    assert a.data["deadlines"] == DeadlineSerializer(event.deadlines.order_by("position", "id"), many=True).data
    assert a.data["street_code"] == "S1" and a.data["status"] == "new"


# --- the bench-only baseline endpoint -------------------------------------------------------

BARE = "/api/v1/bench/bare/"


def test_bench_endpoint_absent_by_default(api, users):
    assert settings.ROOT_URLCONF == "config.urls"
    assert "bench.bare" not in settings.INSTALLED_APPS
    with pytest.raises(Resolver404):
        resolve(BARE)
    assert api(users["platform"]).post(BARE, {"note": "x"}, format="json").status_code == 404


def test_bench_settings_are_the_real_ones_plus_the_endpoint():
    bench = importlib.import_module("config.settings_bench")
    assert bench.ROOT_URLCONF == "bench.bare.urls" and "bench.bare" in bench.INSTALLED_APPS
    assert [a for a in bench.INSTALLED_APPS if a != "bench.bare"] == list(settings.INSTALLED_APPS)
    assert bench.DATABASES.keys() == settings.DATABASES.keys() and bench.MIDDLEWARE == settings.MIDDLEWARE


def test_post_answer_is_the_detail_read_back(api, users, catalog, district, categories):
    """The answer to a create is made from the rows intake wrote, not read back: it must be exactly what
    a read of the event answers (subject, team, deadlines, timeline and all), ETag included."""
    from grids.models import Subject

    Subject.objects.create(name="老王面馆", category=categories["restaurant"], lat=S1_POINT[0] + 1e-5, lng=S1_POINT[1],
                           grid=district["S1G1"])
    client = api(users["platform"])
    r = client.post("/api/v1/events/", event_data(1, reporter_name="张三", reporter_phone="13800001111"),
                    format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["subject_name"] == "老王面馆" and body["team_code"] and body["deadlines"] and body["timeline"]
    got = client.get(f"/api/v1/events/{body['id']}/")
    assert body == got.json() and r["ETag"] == got["ETag"]
    again = client.post("/api/v1/events/", event_data(1, reporter_name="张三", reporter_phone="13800001111"),
                        format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json() == body


def test_the_routed_team_loads_what_routing_does_not_know_on_use(report, teams):
    """Intake gives the event the team as routing's snapshot has it (id, code, name), deferred like
    `.only()`: another field is read on use, never silently empty."""
    event = report()
    assert event.team.code == teams["S1"].code and event.team.get_deferred_fields() == {"street_id"}
    assert event.team.street_id == teams["S1"].street_id


def test_a_complaint_posts_its_credit_fact_without_look_ups(report, users, district, categories, checked_rarely,
                                                            django_assert_max_num_queries):
    """A citizen's report about a subject: the fact, its audit record and its rescoring row are 3 INSERTs; no
    look-up of an earlier fact (the event is new) nor of the subject (intake has just read it)."""
    from credit.models import CreditFact
    from grids.models import Subject

    shop = Subject.objects.create(name="老王面馆", category=categories["restaurant"], lat=S1_POINT[0] + 1e-5,
                                  lng=S1_POINT[1], grid=district["S1G1"])
    report()  # warm-up
    client = fresh(users["platform"])
    with django_assert_max_num_queries(INTAKE_MAX_QUERIES + 3) as ctx:
        event, created = intake.intake_event(client, event_data(7))  # about the nearest subject
    assert created and event.subject_id == shop.pk and CreditFact.objects.filter(subject=shop, source_pk=str(event.pk)).count() == 1
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("SELECT") and "credit_creditfact" in q["sql"]]
