"""The catalog pages: a read-only browser for everyone, staff pages for versions, the supermarket, imports."""
import base64
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.tabular import write_table
from grids.testing import *  # noqa: F403
from enforcement.models import CatalogVersion, Delegation, Scenario
from enforcement.testing import held_delegation

pytestmark = pytest.mark.django_db


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize("query", ["", "?tab=matters&department=SCJG&non_site=false", "?tab=delegations",
                                   "?tab=delegations&street=S1&on=2026-02-01", "?tab=problem_types",
                                   "?tab=checklists", "?tab=scenarios", "?version={id}"])
def test_browser_for_everyone(catalog, users, query):
    # Version ids are not 1 on PostgreSQL (sequences don't reset between tests): use the real one.
    r = client_for(users["officer_s1"]).get("/catalog/" + query.format(id=catalog.pk))
    assert r.status_code == 200
    assert "执法事项清单" in r.content.decode()


def test_browser_shows_matters_and_holdings(catalog, users):
    html = client_for(users["leader_s2"]).get("/catalog/?tab=delegations&street=S1&on=2026-02-01").content.decode()
    assert "对无证无照经营的行政处罚" in html and "撤销原因" not in html  # no revoke form for non-staff


@pytest.mark.parametrize("url", ["/catalog/versions/", "/catalog/versions/{id}/diff/", "/catalog/supermarket/",
                                 "/catalog/import/"])
def test_staff_pages_refuse_others(catalog, users, url):
    assert client_for(users["officer_s1"]).get(url.format(id=catalog.pk)).status_code == 403


@pytest.mark.parametrize("url", ["/catalog/versions/", "/catalog/versions/{id}/diff/", "/catalog/supermarket/",
                                 "/catalog/import/"])
def test_staff_pages_refuse_street_bound_bureau_staff(catalog, users, url):
    # The catalog is the district's: the pages apply the rule the API and the services apply.
    assert client_for(users["bureau_s1"]).get(url.format(id=catalog.pk)).status_code == 403


def test_street_bound_bureau_staff_cannot_publish_or_revoke_from_the_pages(catalog, users, district):
    c = client_for(users["bureau_s1"])
    assert c.post("/catalog/versions/", {"action": "open", "note": "修订"}).status_code == 403
    d = held_delegation(catalog, "SR-001", district["S1"])
    assert c.post(f"/catalog/delegations/{d.pk}/revoke/", {"reason": "试"}).status_code == 403
    assert not CatalogVersion.objects.filter(status="draft").exists()
    d.refresh_from_db()
    assert d.revoked_at is None
    html = c.get("/catalog/?tab=delegations&street=S1&on=2026-02-01").content.decode()
    assert "撤销原因" not in html  # no revoke form offered either


def test_export_for_everyone(catalog, users):
    r = client_for(users["officer_s1"]).get("/catalog/export/?kind=matters&format=csv")
    assert r.status_code == 200 and "SR-001" in r.content.decode("utf-8-sig")
    assert client_for(users["officer_s1"]).get("/catalog/export/?kind=planets&format=csv").status_code == 404


def test_versions_page_opens_and_publishes(catalog, users):
    c = client_for(users["bureau"])
    assert c.post("/catalog/versions/", {"action": "open", "note": "修订"}).status_code == 302
    draft = CatalogVersion.objects.get(status="draft")
    assert c.get(f"/catalog/versions/{draft.pk}/diff/").status_code == 200
    assert "发布草稿 V2" in c.get("/catalog/versions/").content.decode()
    c.post("/catalog/versions/", {"action": "publish"})
    draft.refresh_from_db()
    assert draft.status == "published"


def test_supermarket_composes_and_publishes(catalog, users, categories):
    c = client_for(users["bureau"])
    page = c.get("/catalog/supermarket/?department=SCJG&kind=administrative_penalty").content.decode()
    assert "对无证无照经营的行政处罚" in page and "对食品经营场所的行政检查" not in page
    r = c.post("/catalog/supermarket/", {
        "name": "无证经营整治", "matter": ["SC-001", "SR-001"], "kind_matter_SR-001": "supervision",
        "categories": [categories["food"].pk], "publish": "on"})
    scenario = Scenario.objects.get(name="无证经营整治")
    assert r.status_code == 302 and scenario.status == "published"
    assert sorted((i.kind, i.matter_code) for i in scenario.items.all()) == [
        ("enforcement", "SC-001"), ("supervision", "SR-001")]
    detail = c.get(f"/catalog/scenarios/{scenario.pk}/").content.decode()
    assert "对无证无照经营的行政处罚" in detail
    # A refused scenario comes back with the error and everything picked still picked.
    r = c.post("/catalog/supermarket/", {"name": "", "matter": ["SC-001", "NOPE"], "kind_matter_SC-001": "supervision",
                                         "categories": [categories["food"].pk], "description": "说明文字"})
    html = r.content.decode()
    assert r.status_code == 400 and Scenario.objects.count() == 1
    assert 'value="SC-001" id="pick-m-' in html and re.search(r'value="SC-001"[^>]*checked', html)
    assert re.search(r'name="kind_matter_SC-001"[^>]*>(<option[^>]*>[^<]*</option>)*?<option value="supervision" selected', html)
    assert "说明文字" in html and re.search(r'value="%d" selected' % categories["food"].pk, html)


def test_supermarket_labels_every_pick(catalog, users):
    html = client_for(users["bureau"]).get("/catalog/supermarket/").content.decode()
    boxes = re.findall(r'<input type="checkbox" name="(?:matter|checklist_item)"[^>]*id="([^"]+)"', html)
    assert boxes and all(f'<label for="{b}">' in html for b in boxes)
    assert '<label for="f-department">' in html and "/static/js/supermarket.js" in html


def test_import_page_previews_then_writes(catalog, users):
    c = client_for(users["bureau"])
    data = write_table("csv", ["code", "name", "law", "department_code", "kind", "domain"],
                       [["N-1", "新事项", "《法》", "ZHZF", "inspection", "市容环卫"]])
    r = c.post("/catalog/import/", {"kind": "matters", "file": SimpleUploadedFile("m.csv", data)})
    html = r.content.decode()
    assert r.status_code == 200 and "预检结果" in html and "确认写入" in html
    assert not CatalogVersion.objects.filter(status="draft").exists()
    r = c.post("/catalog/import/", {"confirm": "1", "kind": "matters", "filename": "m.csv",
                                    "payload": base64.b64encode(data).decode()})
    assert r.status_code == 302
    assert CatalogVersion.objects.get(status="draft").matters.filter(code="N-1").exists()
    bad = write_table("csv", ["code", "name", "law", "department_code", "kind", "domain"], [["N-2", "", "", "", "", ""]])
    html = c.post("/catalog/import/", {"kind": "matters", "file": SimpleUploadedFile("m.csv", bad)}).content.decode()
    assert "有错误行" in html and "确认写入" not in html


def test_revoke_from_the_browser(catalog, users, district):
    d = held_delegation(catalog, "SR-001", district["S1"])
    c = client_for(users["bureau"])
    r = c.post(f"/catalog/delegations/{d.pk}/revoke/", {"reason": "收回", "next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == "/catalog/"
    assert Delegation.objects.get(pk=d.pk).revoke_reason == "收回"
    assert client_for(users["leader_s1"]).post(f"/catalog/delegations/{d.pk}/revoke/", {"reason": "x"}).status_code == 403


def test_admin_pages(catalog, users, district):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pass-word-1")
    c = client_for(admin)
    for url in ["/admin/enforcement/matter/", "/admin/enforcement/delegation/", "/admin/enforcement/catalogversion/",
                "/admin/enforcement/problemtype/", "/admin/enforcement/scenario/", "/admin/enforcement/checklist/",
                "/admin/enforcement/tiertemplate/", "/admin/enforcement/matter/add/", "/admin/enforcement/delegation/add/"]:
        assert c.get(url).status_code == 200, url
    d = held_delegation(catalog, "SR-001", district["S1"])
    r = c.post("/admin/enforcement/delegation/", {"action": "revoke_selected", "_selected_action": [d.pk]})
    assert r.status_code == 200 and "撤销原因" in r.content.decode()
    c.post("/admin/enforcement/delegation/", {"action": "revoke_selected", "_selected_action": [d.pk],
                                              "apply": "1", "reason": "后台撤销"})
    assert Delegation.objects.get(pk=d.pk).revoke_reason == "后台撤销"


def test_admin_forms_report_errors_instead_of_failing(catalog, users):
    from django.contrib.auth import get_user_model

    c = client_for(get_user_model().objects.create_superuser("root", "root@example.com", "pass-word-1"))
    r = c.post("/admin/enforcement/problemtype/add/", {"code": "X", "name": "x", "matter_code": "NOPE",
                                                       "default_severity": "blue", "active": "on"})
    assert r.status_code == 200 and "NOPE" in r.content.decode()
    r = c.post("/admin/enforcement/tiertemplate/add/", {"tier": "urban", "name": "城区", "codes": "SR-001\nNOPE"})
    assert r.status_code == 200 and "NOPE" in r.content.decode()
    r = c.post("/admin/enforcement/tiertemplate/add/", {"tier": "urban", "name": "城区", "codes": "SR-001；SC-001"})
    assert r.status_code == 302
    from enforcement.models import TierTemplate
    assert TierTemplate.objects.get(tier="urban").matter_codes == ["SR-001", "SC-001"]
    r = c.post("/admin/enforcement/delegation/add/", {"matter_code": "NOPE", "street": "", "effective_from": "2027-01-01"})
    assert r.status_code == 200
    r = c.post("/admin/enforcement/matter/add/", {"code": "SR-001", "name": "x", "law": "《法》", "kind": "inspection",
                                                  "department": catalog.matters.first().department_id, "domain": "d",
                                                  "status": "active"})
    assert r.status_code == 200 and "草稿中已有该事项编码" in r.content.decode()
    # bureau staff bound to one street see the catalog in the admin but cannot change it
    from enforcement.services.access import may_edit_catalog
    assert not may_edit_catalog(users["bureau_s1"]) and may_edit_catalog(users["bureau"])


def test_import_page_offers_blank_templates_and_names_allowed_kinds(catalog, users):
    from openpyxl import load_workbook
    import io

    c = client_for(users["bureau"])
    html = c.get("/catalog/import/").content.decode()
    for kind in ("matters", "delegations", "checklists", "scenarios", "problem_types"):
        assert f"?template={kind}&amp;format=xlsx" in html
    r = c.get("/catalog/import/", {"template": "matters", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert r.status_code == 200 and rows == [("code", "name", "law", "article", "department_code", "kind", "domain",
                                              "non_site", "major_decision", "status")]
    assert c.get("/catalog/import/", {"template": "planets"}).status_code == 404
    assert client_for(users["officer_s1"]).get("/catalog/import/", {"template": "matters"}).status_code == 403
    bad = write_table("csv", ["code", "name", "law", "department_code", "kind", "domain"],
                      [["N-3", "新事项", "《法》", "ZHZF", "penalty", "市容环卫"]])
    r = c.post("/catalog/import/", {"kind": "matters", "file": SimpleUploadedFile("m.csv", bad)})
    reason = r.context["report"].errors[0].reason
    assert "未知事项类型：penalty" in reason and "administrative_penalty" in reason and "行政处罚" in reason
