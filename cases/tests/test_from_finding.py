"""Cases filed from inspection findings: the finding gives subject, street, matter, facts and day; its
referral is taken up; one case per finding (service and database); refusals 404/400/409; audited."""
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases import services
from cases.choices import Origin
from cases.models import Case
from core.exceptions import NotFound
from core.models import AuditLog
from grids.models import Subject
from inspections.models import Finding, Referral, Visit

URL = "/api/v1/cases/"


def _visit(subject, street):
    today = timezone.localdate()
    return Visit.objects.create(street=street, subject=subject, date=today, month=today.replace(day=1),
                                kind="one_off", one_off_reason="complaint", reason="one_off")


@pytest.fixture
def make_finding(district, shop):
    def make(*, result="fail", subject=None, street=None, code="c-1", matter_code="M-SHOP"):
        visit = _visit(subject or shop, street or district["S1"])
        return Finding.objects.create(
            visit=visit, client_id=code, item_code="F1", item_text="是否占道经营", matter_code=matter_code,
            weight=2, result=result, note="店外摆放桌椅六张" if result == "fail" else "",
            rectification="on_the_spot" if result == "fail" else "")
    return make


@pytest.mark.django_db
def test_filing_from_a_finding_takes_its_data_and_the_referral(api, client, users, catalog, handlers, shop,
                                                               make_finding):
    finding = make_finding()
    Referral.objects.create(finding=finding, note="需处罚")
    ids = [o.pk for o in handlers["s1"][:2]]
    r = api(users["leader_s1"]).post(URL, {"finding": finding.pk, "handler_ids": ids}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["origin"] == "finding" and body["finding"] == finding.pk
    assert body["finding_item"] == "是否占道经营" and body["finding_visit"] == finding.visit_id
    assert body["subject"] == shop.pk and body["street"] == "S1" and body["matter_codes"] == ["M-SHOP"]
    assert body["facts_on"] == timezone.localdate().isoformat() and "店外摆放桌椅六张" in body["facts"]
    assert Referral.objects.get(finding=finding).consumed_at is not None
    case = Case.objects.get(pk=body["id"])
    assert AuditLog.objects.filter(action="case.filed", object_id=str(case.pk)).get().changes["finding"] == [
        None, finding.pk]
    assert AuditLog.objects.filter(action="inspections.referral_taken_up").count() == 1
    # The case page shows where it came from.
    client.force_login(users["leader_s1"])
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200 and "是否占道经营" in page.content.decode()
    assert f"/inspections/{finding.visit_id}/" in page.content.decode()
    visit_page = client.get(f"/inspections/{finding.visit_id}/")  # and the visit says the finding is filed
    assert visit_page.status_code == 200 and "已立案" in visit_page.content.decode()
    # A second case for the same finding: 409, nothing written.
    again = api(users["leader_s1"]).post(URL, {"finding": finding.pk, "handler_ids": ids}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_filed"
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_finding_nobody_referred_gets_a_taken_up_referral(users, catalog, handlers, make_finding):
    finding = make_finding()
    ids = [o.pk for o in handlers["s1"][:2]]
    # An officer files from the findings of visits they are on.
    with pytest.raises(NotFound):
        services.file_case(users["officer_s1"], party_kind="", origin=Origin.FINDING, finding=finding.pk,
                           handler_ids=ids)
    finding.visit.officers.add(handlers["s1"][0])
    case = services.file_case(users["officer_s1"], party_kind="", origin=Origin.FINDING, finding=finding.pk,
                              handler_ids=ids, facts="另写的事实")
    assert case.finding_id == finding.pk and case.facts == "另写的事实"
    referral = Referral.objects.get(finding=finding)
    assert referral.consumed_at is not None and referral.referred_by == users["officer_s1"]


@pytest.mark.django_db
def test_refusals(api, users, catalog, handlers, district, shop, make_finding):
    ids = [o.pk for o in handlers["s1"][:2]]
    east = Subject.objects.create(name="东边面馆", category=shop.category, lat=30.5, lng=121.5, grid=district["S2G1"])
    other_street = make_finding(subject=east, street=district["S2"], code="c-s2")
    passed = make_finding(result="pass", code="c-pass")
    leader = api(users["leader_s1"])
    # Another street's finding and a missing one: the same 404.
    a = leader.post(URL, {"finding": other_street.pk, "handler_ids": ids}, format="json")
    b = leader.post(URL, {"finding": 99999999, "handler_ids": ids}, format="json")
    assert a.status_code == b.status_code == 404 and a.json()["detail"] == b.json()["detail"]
    # A finding that passed: 400 on the field.
    r = leader.post(URL, {"finding": passed.pk, "handler_ids": ids}, format="json")
    assert r.status_code == 400 and "finding" in r.json()
    # The subject and street come from the finding.
    r = leader.post(URL, {"finding": passed.pk, "subject": east.pk, "handler_ids": ids}, format="json")
    assert r.status_code == 400 and "subject" in r.json()
    # A corrected finding: the correction is the record.
    failed = make_finding(code="c-old")
    Finding.objects.create(visit=failed.visit, client_id="c-new", item_code="F1", item_text="是否占道经营",
                           result="pass", corrects=failed, correction_reason="误录")
    r = leader.post(URL, {"finding": failed.pk, "handler_ids": ids}, format="json")
    assert r.status_code == 400 and "finding" in r.json()
    # Wrong role: 403.
    assert api(users["platform"]).post(URL, {"finding": failed.pk, "handler_ids": ids},
                                       format="json").status_code == 403
    # Direct filing still needs its fields.
    r = leader.post(URL, {"handler_ids": ids}, format="json")
    assert r.status_code == 400 and {"party_kind", "matter_codes", "facts", "facts_on"} <= set(r.json())
    assert Case.objects.count() == 0 and Referral.objects.count() == 0


@pytest.mark.django_db
def test_one_case_per_finding_is_a_database_rule(file_case, make_finding):
    finding = make_finding()
    case = file_case()
    Case.objects.filter(pk=case.pk).update(origin=Origin.FINDING, finding=finding)
    other = file_case()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=other.pk).update(origin=Origin.FINDING, finding=finding)
    with pytest.raises(IntegrityError), transaction.atomic():  # a finding link means the finding origin
        Case.objects.filter(pk=other.pk).update(finding=make_finding(code="c-2"))


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_filings_of_one_finding_at_once_one_wins(users, catalog, handlers, make_finding):
    """Two leaders file from the same finding at the same moment (PostgreSQL): one case, one 409."""
    from django.db import connection

    from core.exceptions import Conflict
    from core.testing import in_threads

    assert connection.vendor == "postgresql"
    finding = make_finding()
    ids = [o.pk for o in handlers["s1"][:2]]
    results, errors = in_threads(2, lambda i: services.file_case(
        users["leader_s1"], party_kind="", origin=Origin.FINDING, finding=finding.pk, handler_ids=ids))
    assert len([r for r in results if r is not None]) == 1
    assert len(errors) == 1 and isinstance(errors[0], Conflict), errors
    assert Case.objects.filter(finding=finding).count() == 1 and Referral.objects.filter(finding=finding).count() == 1


def _picker(page) -> str:
    html = page.content.decode()
    return html[html.index('<select name="finding"'):].split("</select>")[0]


@pytest.mark.django_db
def test_the_filing_page_picks_a_finding_and_refuses_a_second_case_with_a_form_error(client, users, catalog, handlers,
                                                                                      shop, make_finding):
    finding = make_finding()
    Referral.objects.create(finding=finding, note="需处罚")
    unreferred = make_finding(code="c-2")
    client.force_login(users["leader_s1"])
    assert f"/cases/new/?subject={shop.pk}&amp;finding={finding.pk}" in client.get(
        f"/inspections/{finding.visit_id}/").content.decode()  # the visit page links to the filing
    page = client.get(f"/cases/new/?subject={shop.pk}&finding={finding.pk}")
    html = _picker(page)
    assert page.status_code == 200 and f'<option value="{finding.pk}" selected>' in html
    assert f'<option value="{unreferred.pk}"' not in html  # not referred for a case
    body = {"finding": finding.pk, "handlers": [o.pk for o in handlers["s1"][:2]], "procedure": "general"}
    r = client.post("/cases/new/", body)
    assert r.status_code == 302, r.context["form"].errors
    case = Case.objects.get()
    assert case.origin == Origin.FINDING and case.finding_id == finding.pk and case.subject_id == shop.pk
    assert f'<option value="{finding.pk}"' not in _picker(client.get("/cases/new/"))
    # the same finding again (a stale page): a form error beside the picker, no second case
    r = client.post("/cases/new/", body)
    assert r.status_code == 409 and "finding" in r.context["form"].errors and Case.objects.count() == 1
    # another street's leader: not found, said beside the picker
    client.force_login(users["leader_s2"])
    r = client.post("/cases/new/", {**body, "handlers": [o.pk for o in handlers["s2"][:2]]})
    assert r.status_code in (400, 404) and Case.objects.count() == 1
    # without a finding the direct filing's fields are required
    client.force_login(users["leader_s1"])
    r = client.post("/cases/new/", {"handlers": body["handlers"], "procedure": "general"})
    assert r.status_code == 400 and {"party_kind", "facts", "facts_on", "matter_codes"} <= set(r.context["form"].errors)
