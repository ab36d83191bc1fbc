from django.test import Client

from cases.models import Case
from cases.testing import outcome
from grids.testing import *  # noqa: F403


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_queue_scoped_and_flags_overdue(users, file_case):
    case = file_case()
    Case.objects.filter(pk=case.pk).update(overdue=True)
    body = _client(users["leader_s1"]).get("/cases/").content.decode()
    assert case.number in body and "已超期" in body
    assert case.number not in _client(users["leader_s2"]).get("/cases/").content.decode()
    assert _client(users["platform"]).get("/cases/").status_code == 403
    assert Client().get("/cases/").status_code == 302


def test_case_page_steps_and_errors(users, file_case):
    case = file_case()
    officer = _client(users["officer_s1"])
    page = officer.get(f"/cases/{case.pk}/").content.decode()
    assert "开始调查" in page and '<label for="' in page
    r = officer.post(f"/cases/{case.pk}/act/investigate/", {"version": case.version})
    assert r.status_code == 302
    # a stale version is refused with the error shown, nothing changed
    r = officer.post(f"/cases/{case.pk}/act/investigate/", {"version": case.version})
    assert r.status_code in (409, 412) and "errorlist" in r.content.decode()
    assert _client(users["leader_s2"]).get(f"/cases/{case.pk}/").status_code == 404
    r = _client(users["leader_s1"]).post(f"/cases/{case.pk}/act/return/", {"version": case.version + 1, "reason": ""})
    assert r.status_code == 400 and "errorlist" in r.content.decode()


def test_submit_form_shows_field_errors(users, file_case, walk):
    case = walk(file_case(), "evidence")
    r = _client(users["officer_s1"]).post(f"/cases/{case.pk}/act/submit/", {
        "version": Case.objects.get(pk=case.pk).version, "outcome_M-SHOP": "penalty", "fine_M-SHOP": "900"})
    assert r.status_code == 400 and "法定上限" in r.content.decode()


def test_public_disclosure_page(users, file_case, walk, district):
    case = walk(file_case(party_kind="person", person_name="王小明", person_phone="13712345678",
                          street=district["S1"]), "served", outcomes=[outcome(fine="100")])
    body = Client().get("/disclosures/").content.decode()
    assert case.number in body and "王小明" not in body and "13712345678" not in body


def test_personal_numbers_in_facts_and_notes_masked_for_non_handlers(users, file_case):
    from cases import services

    case = file_case(facts="当事人电话13712345678，拒不改正。")
    services.investigate(users["officer_s1"], case)
    body = _client(users["leader_s1"]).get(f"/cases/{case.pk}/").content.decode()
    assert "13712345678" not in body and "137****5678" in body
    assert "13712345678" in _client(users["officer_s1"]).get(f"/cases/{case.pk}/").content.decode()


def test_file_a_case_from_the_page(users, handlers, shop, catalog):
    import datetime as dt

    client = _client(users["officer_s1"])
    assert client.get("/cases/new/").status_code == 200
    data = {"party_kind": "business", "subject": shop.pk, "matter_codes": "M-SHOP，M-FUME", "facts": "店外经营",
            "facts_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(), "handlers": [handlers["s1"][0].pk],
            "procedure": "general"}
    r = client.post("/cases/new/", data)
    assert r.status_code == 400 and "承办人不少于两人" in r.content.decode() and not Case.objects.exists()
    data["handlers"] = [o.pk for o in handlers["s1"][:2]]
    r = client.post("/cases/new/", data)
    assert r.status_code == 302
    assert Case.objects.get().matters.count() == 2
    assert _client(users["platform"]).get("/cases/new/").status_code == 403
