"""Complaints feed credit: a citizen-sourced event about a subject posts a complaint (unconfirmed), its
resolution confirms it, rejection or merging withdraws it, and the subject's score follows."""
import pytest

from command_center.models import Event
from command_center.services import transitions
from core.models import AuditLog
from credit.models import CreditFact, CreditHistory, CreditScore
from credit.services import facts as credit_services
from grids.models import Subject

pytestmark = pytest.mark.django_db

S1_POINT = (30.2, 120.2)


@pytest.fixture
def shop(district, categories):
    return Subject.objects.create(name="老王饭店", category=categories["restaurant"], lat=30.2, lng=120.2,
                                  grid=district["S1G1"])


@pytest.fixture
def committed(django_capture_on_commit_callbacks, settings):
    """Run a call and then what it left for commit time (the rescore), as a real commit would; a worker's
    follow-ups too (the rescore of a complaint at intake is one: tasks inline, also with a broker)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def score_of(subject):
    row = CreditScore.objects.filter(subject=subject).first()
    return (round(row.score, 2), row.color) if row else (0, None)


def complaint(event):
    return CreditFact.objects.get(source_app="command_center", source_model="event", source_pk=str(event.pk))


def _to_resolved(users, officers, event):
    e = transitions.dispatch(users["dispatcher"], event, officers["s1"])
    for step in (transitions.accept, transitions.arrive):
        e = step(users["officer_s1"], e)
    return transitions.resolve(users["officer_s1"], e, "已责令清理油烟管道")


def test_citizen_complaint_counts_unconfirmed_then_confirmed_when_resolved(report, shop, users, officers, committed):
    e = committed(report, subject=shop.pk)
    fact = complaint(e)
    assert (fact.kind, fact.subject_id, fact.confirmed, fact.withdrawn_at) == ("complaint", shop.pk, False, None)
    assert fact.occurred_at == e.created_at and f"#{e.pk}" in fact.source_text
    assert score_of(shop) == (0.9, "green")  # 3 points × 0.3 (unconfirmed)
    e = committed(_to_resolved, users, officers, e)
    assert complaint(e).confirmed and score_of(shop) == (3, "green")
    assert AuditLog.objects.filter(action="credit.fact_confirmed", object_id=str(fact.pk)).exists()
    committed(transitions.close, users["dispatcher"], e, 4)
    assert CreditFact.objects.filter(subject=shop).count() == 1 and score_of(shop) == (3, "green")


def test_rejected_complaint_is_withdrawn_and_the_colour_goes_back(report, shop, users, committed):
    # 13.5 points already: one more complaint, even unconfirmed, turns the shop yellow (from 14).
    committed(credit_services.post_fact, shop, "violation", source_app="enforcement", source_model="case",
              source_pk=1, points=13.5)
    assert score_of(shop) == (13.5, "green")
    e = committed(report, subject=shop.pk)
    assert score_of(shop) == (14.4, "yellow")
    committed(transitions.reject, users["dispatcher"], e, "经核实为恶意投诉")
    fact = complaint(e)
    assert fact.withdrawn_at and fact.withdrawn_reason == "不予受理" and fact.withdrawn_by == users["dispatcher"]
    assert score_of(shop) == (13.5, "green")
    assert list(CreditHistory.objects.filter(subject=shop).order_by("changed_at", "id")
                .values_list("from_color", "to_color", "cause")) == [
        ("green", "yellow", "fact_posted"), ("yellow", "green", "fact_withdrawn")]


def test_duplicate_merged_is_withdrawn_the_kept_one_still_counts(report, shop, users, committed):
    kept = committed(report, subject=shop.pk)
    dup = committed(report, subject=shop.pk, point=(30.2001, 120.2))
    assert score_of(shop) == (1.8, "green")
    committed(transitions.merge, users["dispatcher"], dup, kept.pk)
    assert complaint(dup).withdrawn_reason == f"重复事件，已合并至 #{kept.pk}"
    assert complaint(kept).withdrawn_at is None and score_of(shop) == (0.9, "green")


@pytest.mark.parametrize("fields", [
    {"source": "grid_worker"},   # a patrol finding, not a complaint
    {"source": "ai_camera"},
    {},                          # citizen, but not about a subject
])
def test_only_citizen_events_about_a_subject_are_complaints(report, shop, committed, fields):
    if "source" in fields:
        fields["subject"] = shop.pk
    committed(report, **fields)
    assert not CreditFact.objects.exists() and score_of(shop) == (0, None)


def test_hotline_complaints_count_and_a_replayed_intake_posts_once(report, shop, users, committed):
    e1 = committed(report, subject=shop.pk, source="hotline_12345", key="k-1")
    e2 = committed(report, subject=shop.pk, source="hotline_12345", key="k-1")
    assert e1.pk == e2.pk and CreditFact.objects.filter(subject=shop).count() == 1


def test_event_and_complaint_commit_together(report, shop, monkeypatch):
    """One transaction: if the ledger refuses, the event is not created either."""
    from core.exceptions import Conflict

    def refuse(*args, **kwargs):
        raise Conflict("ledger refused")

    monkeypatch.setattr(credit_services, "post_fact", refuse)
    with pytest.raises(Conflict):
        report(subject=shop.pk)
    assert not Event.objects.exists() and not CreditFact.objects.exists()


def test_end_to_end_through_the_api(catalog, shop, users, api, committed):
    client = api(users["platform"])
    r = committed(client.post, "/api/v1/events/", {
        "source": "citizen", "problem_type": "YYCB", "description": "饭店油烟直排，熏得窗户都黑了",
        "lat": S1_POINT[0], "lng": S1_POINT[1], "subject": shop.pk}, format="json")
    assert r.status_code == 201, r.content
    event_id = r.json()["id"]
    credit = api(users["leader_s1"]).get(f"/api/v1/subjects/{shop.pk}/credit/").json()
    assert credit["score"] == pytest.approx(0.9)
    r = committed(api(users["dispatcher"]).post, f"/api/v1/events/{event_id}/reject/", {"reason": "油烟达标，投诉不实"},
                  format="json", HTTP_IF_MATCH=Event.objects.get(pk=event_id).etag)
    assert r.status_code == 200, r.content
    credit = api(users["leader_s1"]).get(f"/api/v1/subjects/{shop.pk}/credit/").json()
    assert credit["score"] == 0 and credit["color"] == "green"
