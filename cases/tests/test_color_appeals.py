"""Appeals against a credit colour alone: the colour under review while open, the outcome applied to
credit, the roles and areas that may lodge and decide them (API, page, review queue)."""
import pytest

from cases import services
from cases.models import ColorAppeal
from core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from credit.choices import FactKind
from credit.models import CreditFact
from credit.services import facts as credit_facts
from grids.testing import *  # noqa: F403

URL = "/api/v1/color-appeals/"


@pytest.fixture
def complaints(shop, users):
    return [credit_facts.post_fact(shop.pk, FactKind.COMPLAINT, source_app="test", source_model="report",
                                   source_pk=i, confirmed=True, source_text=f"投诉{i}")[0] for i in (1, 2)]


def _under_review(api, users, shop):
    return api(users["bureau"]).get(f"/api/v1/subjects/{shop.pk}/credit/").json()["under_review"]


def test_lodge_marks_under_review_and_upheld_clears_it(api, users, shop, complaints, catalog):
    assert _under_review(api, users, shop) is False
    r = api(users["leader_s1"]).post(URL, {"subject": shop.pk, "kind": "complaint", "grounds": "颜色不公"},
                                     format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["result"] == "" and sorted(body["fact_ids"]) == sorted(f.pk for f in complaints)
    assert _under_review(api, users, shop) is True
    file = api(users["leader_s1"]).get(f"/api/v1/subjects/{shop.pk}/file/").json()
    assert file["credit"]["under_review"] is True
    section = next(s for s in file["sections"] if s["key"] == "color_appeals")
    assert section["items"][0]["id"] == body["id"] and section["items"][0]["result"] == ""
    # one open per subject
    again = api(users["bureau"]).post(URL, {"subject": shop.pk, "kind": "complaint", "grounds": "再申诉"},
                                      format="json")
    assert again.status_code == 409
    r = api(users["bureau"]).post(f"{URL}{body['id']}/decide/", {"result": "upheld", "note": "维持"}, format="json")
    assert r.status_code == 200 and r.json()["result"] == "upheld" and r.json()["withdrawn_fact_ids"] == []
    assert _under_review(api, users, shop) is False
    assert CreditFact.objects.filter(pk__in=[f.pk for f in complaints], withdrawn_at__isnull=True).count() == 2
    assert api(users["bureau"]).post(f"{URL}{body['id']}/decide/", {"result": "upheld", "note": "x"},
                                     format="json").status_code == 409


def test_changed_withdraws_the_named_facts_revoked_all(users, shop, complaints, catalog):
    first, second = complaints
    item = services.appeal_color(users["leader_s1"], shop.pk, kind="reconsideration", grounds="不服")
    with pytest.raises(ValidationFailed) as err:
        services.decide_color_appeal(users["leader_s1"], item.pk, result="changed", note="部分", withdraw_fact_ids=[])
    assert "withdraw_fact_ids" in err.value.fields
    with pytest.raises(ValidationFailed):
        services.decide_color_appeal(users["leader_s1"], item.pk, result="changed", note="部分",
                                     withdraw_fact_ids=[999999])
    services.decide_color_appeal(users["leader_s1"], item.pk, result="changed", note="部分撤回",
                                 withdraw_fact_ids=[first.pk])
    first.refresh_from_db(), second.refresh_from_db()
    assert first.withdrawn_at is not None and second.withdrawn_at is None and second.contested_at is None
    item = services.appeal_color(users["bureau"], shop.pk, kind="complaint", grounds="再次")
    assert item.fact_ids == [second.pk]
    services.decide_color_appeal(users["bureau"], item.pk, result="revoked", note="撤销")
    second.refresh_from_db()
    assert second.withdrawn_at is not None
    with pytest.raises(Conflict) as err:  # nothing left to contest
        services.appeal_color(users["bureau"], shop.pk, kind="complaint", grounds="无记录")
    assert err.value.code == "nothing_to_contest"


def test_refusals_role_and_area(api, users, shop, complaints, catalog):
    body = {"subject": shop.pk, "kind": "complaint", "grounds": "不服"}
    assert api(users["officer_s1"]).post(URL, body, format="json").status_code == 403
    assert api(users["leader_s2"]).post(URL, body, format="json").status_code == 404
    assert api(users["leader_s1"]).post(URL, {**body, "kind": "x"}, format="json").status_code == 400
    assert api().get(URL).status_code in (401, 403)
    assert not ColorAppeal.objects.exists()
    with pytest.raises(Forbidden):
        services.appeal_color(users["officer_s1"], shop.pk, kind="complaint", grounds="不服")
    item = services.appeal_color(users["leader_s1"], shop.pk, kind="complaint", grounds="不服")
    assert api(users["leader_s2"]).get(f"{URL}{item.pk}/").status_code == 404
    assert api(users["leader_s2"]).get(URL).json()["count"] == 0
    assert api(users["leader_s1"]).get(URL).json()["count"] == 1
    assert api(users["leader_s2"]).post(f"{URL}{item.pk}/decide/", {"result": "upheld", "note": "x"},
                                        format="json").status_code == 404
    assert api(users["officer_s1"]).post(f"{URL}{item.pk}/decide/", {"result": "upheld", "note": "x"},
                                         format="json").status_code == 403
    with pytest.raises(NotFound):
        services.decide_color_appeal(users["leader_s2"], item.pk, result="upheld", note="x")


def test_a_case_appeal_keeps_its_facts_contested_after_the_colour_appeal(users, file_case, walk, shop, catalog):
    case = walk(file_case(), "closed")
    case_appeal = services.appeal(users["leader_s1"], case, kind="reconsideration", grounds="不服决定")
    colour = services.appeal_color(users["leader_s1"], shop.pk, kind="complaint", grounds="不服颜色")
    services.decide_color_appeal(users["bureau"], colour.pk, result="upheld", note="维持")
    assert CreditFact.objects.filter(subject=shop, contested_at__isnull=False).exists()  # the case's appeal is open
    case.refresh_from_db()
    services.decide_appeal(users["bureau"], case, result="upheld", note="维持")
    assert not CreditFact.objects.filter(subject=shop, contested_at__isnull=False).exists()
    assert case_appeal.pk


def test_page_lodges_and_decides_and_the_review_queue_lists_it(client, users, shop, complaints, catalog):
    client.force_login(users["leader_s1"])
    r = client.get("/color-appeals/")
    assert r.status_code == 200
    assert f"/color-appeals/?subject={shop.pk}" in client.get(f"/subjects/{shop.pk}/").content.decode()
    r = client.post("/color-appeals/", {"subject": shop.pk, "kind": "complaint", "grounds": ""})
    assert r.status_code == 400 and "grounds" in r.context["form"].errors
    r = client.post("/color-appeals/", {"subject": shop.pk, "kind": "complaint", "grounds": "颜色不公"})
    assert r.status_code == 302
    item = ColorAppeal.objects.get()
    review = client.get("/api/v1/review/").json()
    assert any(i["kind"] == "color_appeal" and i["id"] == item.pk for i in review["results"])
    r = client.post(f"/color-appeals/{item.pk}/decide/", {"result": "changed", "note": "x", "withdraw_fact_ids": ""})
    assert r.status_code == 400
    r = client.post(f"/color-appeals/{item.pk}/decide/", {"result": "upheld", "note": "维持"})
    assert r.status_code == 302
    item.refresh_from_db()
    assert item.result == "upheld"
    client.force_login(users["leader_s2"])
    assert client.post(f"/color-appeals/{item.pk}/decide/", {"result": "upheld", "note": "x"}).status_code == 404
    client.force_login(users["officer_s1"])
    assert client.get("/color-appeals/").status_code == 403


def test_admin_shows_them_read_only(users, shop, complaints, catalog):
    from django.test import Client

    item = services.appeal_color(users["bureau"], shop.pk, kind="complaint", grounds="不服")
    client = Client()
    client.force_login(users["bureau"])
    assert client.get("/admin/cases/colorappeal/").status_code == 200
    assert client.post(f"/admin/cases/colorappeal/{item.pk}/change/", {"grounds": "改"}).status_code == 403
    assert client.post(f"/admin/cases/colorappeal/{item.pk}/delete/", {"post": "yes"}).status_code == 403
    item.refresh_from_db()
    assert item.grounds == "不服"
