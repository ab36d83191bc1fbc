"""The visit: findings (idempotent, corrections), photos, signature, credit facts posted and withdrawn,
the overdue sweep raising the command-center event exactly once, referral, and the public results."""
import base64
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from command_center.models import Event
from credit.models import CreditFact
from inspections import services
from inspections.models import Finding, InspectionPlan, Referral, Visit

URL = "/api/v1/inspections/"


def png_data_url(color=(0, 0, 0)):
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), color).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def visit(api, users, world):
    """A visit today (outside a plan: a one-off for a complaint) by both S1 officers."""
    r = api(users["leader_s1"]).post(URL, {
        "street": "S1", "subject": world["subjects"][0].pk, "date": timezone.localdate().isoformat(),
        "officers": [world["o1"].pk, world["o2"].pk], "kind": "one_off", "one_off_reason": "complaint"},
        format="json")
    assert r.status_code == 201, r.content
    return r.json()


def facts(kind=None, withdrawn=False):
    qs = CreditFact.objects.filter(source_app="inspections", withdrawn_at__isnull=not withdrawn)
    return qs.filter(kind=kind) if kind else qs


@pytest.mark.django_db
def test_record_findings_idempotent_posts_facts_and_completes(api, users, world, visit):
    officer = api(users["officer_s1"])
    items = officer.get(f"{URL}{visit['id']}/items/").json()
    assert [i["code"] for i in items] == ["F1", "F2"]
    body = {"client_id": "c-1", "item": "F1", "result": "fail", "note": "无证", "rectification": "deadline"}
    first = officer.post(f"{URL}{visit['id']}/findings/", body, format="json")
    again = officer.post(f"{URL}{visit['id']}/findings/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Finding.objects.count() == 1
    # Weight 5 → 3 days by default.
    assert first.json()["comply_by"] == (timezone.localdate() + timedelta(days=3)).isoformat()
    assert facts("inspection_finding").get().points == 5
    assert facts("rectification_open").count() == 1
    r = officer.post(f"{URL}{visit['id']}/findings/", {"client_id": "c-2", "item": "F2", "result": "pass"}, format="json")
    assert r.status_code == 201
    r = officer.post(f"{URL}{visit['id']}/photos/", {"client_id": "p-1", "finding": "c-1", "image": png_data_url()},
                     format="json")
    assert r.status_code == 201
    assert officer.post(f"{URL}{visit['id']}/photos/", {"client_id": "p-1", "finding": "c-1",
                                                         "image": png_data_url()}, format="json").status_code == 200
    done = {"client_id": "sig-1", "representative_name": "老板", "signature": png_data_url()}
    r = officer.post(f"{URL}{visit['id']}/complete/", done, format="json")
    assert r.status_code == 201 and r.json()["status"] == "completed" and r.json()["has_signature"]
    assert officer.post(f"{URL}{visit['id']}/complete/", done, format="json").status_code == 200
    # A completed visit is a legal record: a new item is refused, a correction needs a reason.
    r = officer.post(f"{URL}{visit['id']}/findings/", {"client_id": "c-3", "item": "F2", "result": "fail",
                                                        "rectification": "on_the_spot"}, format="json")
    assert r.status_code == 400 and "correction_reason" in r.json()
    r = officer.post(f"{URL}{visit['id']}/findings/", {"client_id": "c-3", "item": "F1", "result": "pass",
                                                        "correction_reason": "证照当场补验"}, format="json")
    assert r.status_code == 201 and r.json()["corrects"] == first.json()["id"]
    assert Finding.objects.count() == 3  # nothing edited or deleted
    assert facts().count() == 0 and facts(withdrawn=True).count() == 2  # the corrected finding's facts withdrawn


@pytest.mark.django_db
def test_visit_refusals(api, users, world, visit):
    body = {"client_id": "c-1", "item": "F1", "result": "pass"}
    # Another street's officer: not theirs to see.
    assert api(users["nobody"]).post(f"{URL}{visit['id']}/findings/", body, format="json").status_code == 404
    assert api(users["leader_s2"]).get(f"{URL}{visit['id']}/").status_code == 404
    # Bureau staff see it but may not record.
    assert api(users["bureau"]).post(f"{URL}{visit['id']}/findings/", body, format="json").status_code == 403
    assert api(users["platform"]).get(URL).status_code == 403
    # Bad input: unknown item, fail without rectification, deadline in the past.
    officer = api(users["officer_s1"])
    assert officer.post(f"{URL}{visit['id']}/findings/", {**body, "item": "ZZ"}, format="json").status_code == 400
    r = officer.post(f"{URL}{visit['id']}/findings/", {**body, "result": "fail"}, format="json")
    assert r.status_code == 400 and "rectification" in r.json()
    r = officer.post(f"{URL}{visit['id']}/findings/", {**body, "result": "fail", "rectification": "deadline",
                                                        "comply_by": "2020-01-01"}, format="json")
    assert r.status_code == 400 and "comply_by" in r.json()
    assert officer.post(f"{URL}{visit['id']}/complete/", {"client_id": "s", "refused": True},
                        format="json").status_code == 400  # nothing recorded yet
    r = officer.post(f"{URL}{visit['id']}/complete/", {"client_id": "s", "representative_name": "x",
                                                        "signature": "data:image/png;base64,AAAA"}, format="json")
    assert r.status_code == 400 and "signature" in r.json()
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_officers_see_only_approved_plans_visits(api, users, world):
    from inspections.testing import month_str
    plan = api(users["leader_s1"]).post("/api/v1/inspection-plans/", {
        "street": "S1", "month": month_str(world["month"]), "subjects": [world["subjects"][0].pk]}, format="json").json()
    assert api(users["officer_s1"]).get(URL).json()["count"] == 0
    services.approve_plan(users["leader_s1"], plan["id"])
    assert api(users["officer_s1"]).get(URL).json()["count"] == len(plan["visits"])


def _overdue_finding(api, users, visit):
    officer = api(users["officer_s1"])
    officer.post(f"{URL}{visit['id']}/findings/", {"client_id": "c-1", "item": "F1", "result": "fail",
                                                    "rectification": "deadline"}, format="json")
    officer.post(f"{URL}{visit['id']}/complete/", {"client_id": "s-1", "refused": True}, format="json")
    return Finding.objects.get(client_id="c-1")


@pytest.mark.django_db
def test_overdue_raises_one_event_and_late_rectification_is_posted(api, users, world, visit):
    from enforcement.services import power
    power.save_problem_type(None, code="WZJY", name="无证经营", matter_code="SC-001", default_severity="yellow")
    finding = _overdue_finding(api, users, visit)
    later = finding.comply_by + timedelta(days=1)
    assert services.sweep_overdue(today=later) == 1
    assert services.sweep_overdue(today=later) == 0  # exactly once
    events = Event.objects.filter(source="inspection")
    assert events.count() == 1
    event = events.get()
    assert event.external_id == f"inspection-finding-{finding.pk}" and event.severity == "red"  # weight 5
    assert event.problem_type_code == "WZJY" and event.subject_id == visit["subject"]
    assert facts("rectification_overdue").count() == 1
    finding.refresh_from_db()
    assert finding.rectification_status == "overdue"
    # The re-inspection confirms it done, late: open + overdue withdrawn, late posted.
    Finding.objects.filter(pk=finding.pk).update(comply_by=timezone.localdate() - timedelta(days=1))
    r = api(users["officer_s1"]).post(f"{URL}{visit['id']}/reinspections/", {"finding": "c-1", "rectified": True},
                                      format="json")
    assert r.status_code == 201 and r.json()["rectification_status"] == "done"
    assert set(facts(withdrawn=True).values_list("kind", flat=True)) == {"rectification_open", "rectification_overdue"}
    assert facts("rectification_late").count() == 1 and facts("inspection_finding").count() == 1
    assert services.sweep_overdue(today=later) == 0


@pytest.mark.django_db
def test_concurrent_sweeps_raise_once(api, users, world, visit):
    """Two sweepers that both listed the finding: the conditional UPDATE lets only one through."""
    finding = _overdue_finding(api, users, visit)
    later = finding.comply_by + timedelta(days=1)
    from inspections import signals
    sent = []
    signals.rectification_overdue.connect(lambda sender, **kw: sent.append(kw["finding_id"]), weak=False,
                                          dispatch_uid="test-sweep")
    try:
        assert services.sweep_overdue(today=later) == 1
        Finding.objects.filter(pk=finding.pk).update(rectification_status="open")  # as the other sweeper saw it
        assert services.sweep_overdue(today=later) == 0
        assert sent == [finding.pk]
    finally:
        signals.rectification_overdue.disconnect(dispatch_uid="test-sweep")


@pytest.mark.django_db
def test_refer_to_case_records_a_referral_once(api, users, world, visit):
    officer = api(users["officer_s1"])
    officer.post(f"{URL}{visit['id']}/findings/", {"client_id": "c-1", "item": "F1", "result": "fail",
                                                    "rectification": "on_the_spot"}, format="json")
    assert officer.post(f"{URL}{visit['id']}/referrals/", {"finding": "c-1"}, format="json").status_code == 201
    assert officer.post(f"{URL}{visit['id']}/referrals/", {"finding": "c-1"}, format="json").status_code == 409
    assert Referral.objects.count() == 1


@pytest.mark.django_db
def test_public_results_without_login_and_personal_data(api, users, world, visit, client,
                                                       django_assert_max_num_queries):
    Visit.objects.filter(pk=visit["id"]).update(reason="green_spot_check", status="completed",
                                                representative_name="张老板")
    with django_assert_max_num_queries(4):
        r = api(None).get("/api/v1/inspection-results/")
    assert r.status_code == 200 and r.json()["count"] == 1
    text = r.content.decode()
    assert "张老板" not in text and world["o1"].name not in text and "officers" not in text
    page = client.get("/inspections/results/")
    assert page.status_code == 200 and world["subjects"][0].name in page.content.decode()
    assert "张老板" not in page.content.decode()


@pytest.mark.django_db
def test_pages_check_roles_and_areas(logged_in, users, world, visit):
    assert logged_in("leader_s1").get("/inspections/plans/").status_code == 200
    assert logged_in("officer_s1").get("/inspections/plans/").status_code == 403
    assert logged_in("leader_s1").get(f"/inspections/{visit['id']}/").status_code == 200
    assert logged_in("leader_s2").get(f"/inspections/{visit['id']}/").status_code == 404
    assert logged_in("leader_s1").get("/inspections/?overdue=1&result=fail").status_code == 200
    assert logged_in("officer_s1").get("/m/inspections/").status_code == 200
    assert logged_in("bureau").get("/m/inspections/").status_code == 403
    assert logged_in("officer_s1").post("/inspections/plans/new/", {"street": "S1", "month": "2099-01"}).status_code == 403
    assert logged_in("leader_s1").post("/inspections/plans/new/", {"street": "S2", "month": "2099-01"}).status_code == 404
    r = logged_in("leader_s1").post("/inspections/plans/new/", {"street": "S1", "month": "2020-01"})
    assert r.status_code == 302 and not InspectionPlan.objects.exists()  # shown as a form error
    plan = services.draft_plan(users["leader_s1"], street="S1", month=f"{world['month']:%Y-%m}")
    assert logged_in("bureau").post(f"/inspections/plans/{plan.pk}/approve/").status_code == 403
    assert logged_in("leader_s2").post(f"/inspections/plans/{plan.pk}/approve/").status_code == 404
    v = plan.visits.first()
    assert logged_in("officer_s1").post(f"/inspections/plans/{plan.pk}/visits/{v.pk}/move/",
                                        {"date": v.date.isoformat()}).status_code == 403
    assert logged_in("leader_s1").post(f"/inspections/plans/{plan.pk}/approve/").status_code == 302
    plan.refresh_from_db()
    assert plan.status == "approved"


@pytest.mark.django_db
def test_visit_page_refers_a_finding_and_reinspects_a_rectification(api, users, world, visit, logged_in):
    officer = api(users["officer_s1"])
    officer.post(f"{URL}{visit['id']}/findings/", {"client_id": "c-1", "item": "F1", "result": "fail",
                                                  "rectification": "deadline"}, format="json")
    page = f"/inspections/{visit['id']}/"
    html = logged_in("officer_s1").get(page).content.decode()
    assert "visit-refer" not in html and f"/inspections/{visit['id']}/refer/" in html
    assert f"/inspections/{visit['id']}/reinspect/" in html  # the open rectification, to re-inspect
    # Those who may only look see no actions, and are refused when they post.
    assert "/refer/" not in logged_in("bureau").get(page).content.decode()
    assert logged_in("bureau").post(f"{page}refer/", {"finding": "c-1"}).status_code == 403
    assert logged_in("leader_s2").post(f"{page}refer/", {"finding": "c-1"}).status_code == 404
    assert logged_in("leader_s2").post(f"{page}reinspect/", {"finding": "c-1", "rectified": "1"}).status_code == 404
    assert not Referral.objects.exists()
    r = logged_in("officer_s1").post(f"{page}refer/", {"finding": "c-1", "note": "无证经营，需处罚"})
    assert r.status_code == 302 and Referral.objects.get().note == "无证经营，需处罚"
    again = logged_in("officer_s1").post(f"{page}refer/", {"finding": "c-1"}, follow=True)
    assert Referral.objects.count() == 1 and "已移送立案" in again.content.decode()
    assert logged_in("officer_s1").post(f"{page}reinspect/", {"finding": "c-1"}).status_code == 302  # form error
    r = logged_in("leader_s1").post(f"{page}reinspect/", {"finding": "c-1", "rectified": "1", "note": "已办证"})
    assert r.status_code == 302
    finding = Finding.objects.get(client_id="c-1")
    assert finding.rectification_status == "done" and finding.reinspections.get().note == "已办证"
    assert facts("rectification_open", withdrawn=True).count() == 1


@pytest.mark.django_db
def test_completed_visits_findings_and_photos_are_never_edited_or_deleted(api, users, world, visit):
    from inspections.models import FindingPhoto, LegalRecordError

    officer = api(users["officer_s1"])
    officer.post(f"{URL}{visit['id']}/findings/", {"client_id": "c-1", "item": "F1", "result": "fail",
                                                  "rectification": "deadline"}, format="json")
    officer.post(f"{URL}{visit['id']}/photos/", {"client_id": "p-1", "finding": "c-1", "image": png_data_url()},
                 format="json")
    officer.post(f"{URL}{visit['id']}/complete/", {"client_id": "s-1", "refused": True}, format="json")
    row, photo, done = Finding.objects.get(), FindingPhoto.objects.get(), Visit.objects.get()
    row.note = "改写"
    for action in (row.save, row.delete, photo.save, photo.delete, done.save, done.delete):
        with pytest.raises(LegalRecordError):
            action()
    row.rectification_status = "done"
    row.save(update_fields=["rectification_status"])  # its rectification's progress may move
    assert Finding.objects.get().note == "" and FindingPhoto.objects.count() == 1
