"""REST: reads for everyone signed in, writes for district bureau staff only, bounded query counts."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.tabular import write_table
from grids.testing import *  # noqa: F403
from enforcement.services import catalog as catalog_services
from enforcement.services import checklists as checklists_services
from enforcement.services import scenarios as scenarios_services
from enforcement.models import CatalogVersion, Delegation, Scenario, TierTemplate
from enforcement.testing import held_delegation, matter

pytestmark = pytest.mark.django_db


@pytest.fixture
def writes(catalog, district):
    """(method, url, body) of every write endpoint."""
    catalog_services.set_tier_template(None, tier="general", matter_codes=["SR-001"])
    scenario = scenarios_services.create_scenario(None, code="SC1", name="场景", categories=[], areas=[district["S1"]],
                                        items=[{"kind": "enforcement", "matter_code": "SC-001"}])
    d = held_delegation(catalog, "SR-001", district["S1"])
    m = matter(catalog, "SR-001")
    template = TierTemplate.objects.get(tier="general")
    upload = write_table("csv", ["code", "name", "law", "department_code", "kind", "domain"],
                         [["N-1", "新事项", "《法》", "ZHZF", "inspection", "市容环卫"]])
    return [
        ("post", "/api/v1/catalog/versions/", {"note": "新草稿"}),
        ("post", f"/api/v1/catalog/versions/{catalog.pk}/publish/", {}),
        ("post", "/api/v1/matters/", {"code": "N-1", "name": "新事项", "law": "《法》", "department": "ZHZF",
                                      "kind": "inspection", "domain": "市容环卫"}),
        ("patch", f"/api/v1/matters/{m.pk}/", {"name": "改名"}),
        ("post", "/api/v1/delegations/", {"matter_code": "GH-001", "street_code": "S2", "effective_from": "2027-01-01"}),
        ("post", f"/api/v1/delegations/{d.pk}/revoke/", {"reason": "收回"}),
        ("post", "/api/v1/tier-templates/", {"tier": "central", "matter_codes": ["SR-001"]}),
        ("post", f"/api/v1/tier-templates/{template.pk}/apply/", {"effective_from": "2027-01-01"}),
        ("post", "/api/v1/problem-types/", {"code": "NEW", "name": "新问题", "matter_code": "SR-001"}),
        ("post", "/api/v1/scenarios/", {"name": "新场景", "items": [{"kind": "enforcement", "matter_code": "SR-001"}]}),
        ("post", f"/api/v1/scenarios/{scenario.pk}/publish/", {}),
        ("post", "/api/v1/checklists/", {"code": "X"}),
        ("post", "/api/v1/catalog/import/matters/", {"file": SimpleUploadedFile("m.csv", upload)}),
    ]


@pytest.mark.parametrize("who", ["dispatcher", "leader_s1", "officer_s1", "platform", "bureau_s1"])
def test_writes_refused_to_everyone_but_district_bureau_staff(writes, users, api, who):
    client = api(users[who])
    for method, url, body in writes:
        fmt = "multipart" if "file" in body else "json"
        r = getattr(client, method)(url, body, format=fmt)
        assert r.status_code == 403, (who, url, r.status_code, r.content)
    assert CatalogVersion.objects.count() == 1 and not Delegation.objects.filter(revoked_at__isnull=False).exists()


def test_anonymous_gets_nothing(catalog, api):
    assert api().get("/api/v1/matters/").status_code in (401, 403)


def test_bureau_staff_write(catalog, users, api, district):
    client = api(users["bureau"])
    r = client.post("/api/v1/matters/", {"code": "N-1", "name": "新事项", "law": "《法》", "department": "ZHZF",
                                         "kind": "inspection", "domain": "市容环卫"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["version"] == 2 and r.json()["code"] == "N-1"
    r = client.post("/api/v1/catalog/versions/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "draft"        # the open draft, not a second one
    draft_id = r.json()["id"]
    r = client.get(f"/api/v1/catalog/versions/{draft_id}/diff/")
    assert [m["code"] for m in r.json()["matters"]["added"]] == ["N-1"]
    r = client.post(f"/api/v1/catalog/versions/{draft_id}/publish/", {"note": "发布"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "published" and r.json()["published_by"] == "bureau"
    assert client.post(f"/api/v1/catalog/versions/{draft_id}/publish/", {}, format="json").status_code == 409
    # matters default to the published version; ?version= reads an old one
    v1 = CatalogVersion.objects.get(number=1)
    assert client.get("/api/v1/matters/").json()["count"] == 6
    assert client.get("/api/v1/matters/", {"version": v1.pk}).json()["count"] == 5
    # old rows are read-only
    old = matter(v1, "SR-001")
    assert client.patch(f"/api/v1/matters/{old.pk}/", {"name": "x"}, format="json").status_code == 409


def test_revoke_api(catalog, users, api, district):
    d = held_delegation(catalog, "SR-001", district["S1"])
    client = api(users["bureau"])
    assert client.post(f"/api/v1/delegations/{d.pk}/revoke/", {}, format="json").status_code == 400
    r = client.post(f"/api/v1/delegations/{d.pk}/revoke/", {"reason": "收回"}, format="json")
    assert r.status_code == 200 and r.json()["revoke_reason"] == "收回" and r.json()["revoked_by"] == "bureau"
    r = client.get("/api/v1/delegations/", {"street": "S1", "on": "2030-01-01"})
    assert [x["matter_code"] for x in r.json()["results"]] == ["SC-001"]


def test_delegation_queries(catalog, users, api):
    client = api(users["officer_s1"])
    r = client.get("/api/v1/delegations/", {"street": "S2", "on": "2026-07-01"})
    assert [x["matter_code"] for x in r.json()["results"]] == ["SR-001"]
    assert client.get("/api/v1/delegations/", {"street": "S2", "on": "2027-01-01"}).json()["count"] == 0
    r = client.get("/api/v1/delegations/", {"matter": "SR-001", "on": "2026-07-01"})
    assert [x["street_code"] for x in r.json()["results"]] == ["S1", "S2"]
    assert client.get("/api/v1/delegations/", {"on": "soon"}).status_code == 400


@pytest.mark.parametrize("params,expected", [
    ({}, ["GH-001", "SC-001", "SC-002", "SR-001", "XF-001"]),
    ({"department": "SCJG"}, ["SC-001", "SC-002"]),
    ({"kind": "inspection"}, ["SC-002"]),
    ({"non_site": "true"}, ["SR-001", "XF-001"]),
    ({"major": "true"}, ["GH-001"]),
    ({"q": "无证"}, ["SC-001"]),
    ({"domain": "城乡规划"}, ["GH-001"]),
])
def test_matter_filters(catalog, users, api, params, expected):
    r = api(users["leader_s1"]).get("/api/v1/matters/", params)
    assert [m["code"] for m in r.json()["results"]] == expected


def test_scenario_api(catalog, users, api, categories):
    client = api(users["bureau"])
    body = {"name": "燃气安全", "categories": ["FOOD"], "items": [
        {"kind": "supervision", "department": "XF", "text": "检查燃气使用场所"},
        {"kind": "enforcement", "matter_code": "SC-001"},
    ]}
    r = client.post("/api/v1/scenarios/", body, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["summary"] == {"supervision": {"departments": 1, "items": 1},
                                   "enforcement": {"departments": 1, "items": 1}, "departments": 2, "items": 2}
    assert r.json()["status"] == "draft" and r.json()["code"].startswith("CJ")
    r = client.post(f"/api/v1/scenarios/{r.json()['id']}/publish/")
    assert r.status_code == 200 and r.json()["status"] == "published"
    bad = client.post("/api/v1/scenarios/", {"name": "x", "categories": ["NOPE"], "items": [{"kind": "enforcement",
                                                                                           "matter_code": "NOPE"}]},
                      format="json")
    assert bad.status_code == 400
    bad = client.post("/api/v1/scenarios/", {"name": "x", "items": [{"kind": "enforcement", "matter_code": "NOPE"}]},
                      format="json")
    assert bad.status_code == 400 and "items[0].matter_code" in bad.json()
    empty = client.post("/api/v1/scenarios/", {"name": "空", "items": [{"kind": "supervision", "department": "XF",
                                                                         "text": "检查"}]}, format="json")
    assert client.post(f"/api/v1/scenarios/{empty.json()['id']}/publish/").status_code == 422  # covers nothing
    assert Scenario.objects.count() == 2


def test_problem_types_api(catalog, users, api):
    r = api(users["platform"]).get("/api/v1/problem-types/", {"default_severity": "red"})
    assert [p["code"] for p in r.json()["results"]] == ["XFTD"]
    r = api(users["bureau"]).post("/api/v1/problem-types/", {"code": "ZDJY", "name": "占道经营", "matter_code": "SR-001",
                                                             "default_severity": "orange"}, format="json")
    assert r.status_code == 200 and r.json()["default_severity"] == "orange"
    r = api(users["bureau"]).post("/api/v1/problem-types/", {"code": "X", "name": "x", "matter_code": "NOPE"},
                                  format="json")
    assert r.status_code == 400 and "matter_code" in r.json()


def test_import_api(catalog, users, api):
    bad = write_table("csv", ["code", "name", "law", "department_code", "kind", "domain"], [["N-1", "", "", "", "", ""]])
    r = api(users["bureau"]).post("/api/v1/catalog/import/matters/?dry_run=true",
                                  {"file": SimpleUploadedFile("m.csv", bad)}, format="multipart")
    assert r.status_code == 400 and {e["column"] for e in r.json()["errors"]} >= {"name", "law", "kind"}
    assert all(e["line"] == 2 for e in r.json()["errors"])


LISTS = ["/api/v1/matters/", "/api/v1/delegations/", "/api/v1/problem-types/", "/api/v1/checklists/",
         "/api/v1/scenarios/", "/api/v1/catalog/versions/", "/api/v1/tier-templates/"]


@pytest.mark.parametrize("url", LISTS)
def test_list_query_counts(catalog, users, api, district, url, django_assert_max_num_queries, categories):
    # More rows must not mean more queries.
    for n in range(5):
        scenarios_services.create_scenario(None, code=f"S{n}", name=f"场景{n}", categories=[categories["food"]],
                                 areas=[district["S1"]], items=[{"kind": "enforcement", "matter_code": "SR-001"}])
    cl, _ = checklists_services.save_checklist(None, code="CL", name="清单", category=categories["food"])
    checklists_services.save_checklist_item(None, cl, code="1", area_name="A", matter_code="SR-001", text="检查")
    catalog_services.set_tier_template(None, tier="urban", matter_codes=["SR-001"])
    client = api(users["leader_s1"])
    with django_assert_max_num_queries(8):
        r = client.get(url)
    assert r.status_code == 200
    rows = r.json()["results"] if isinstance(r.json(), dict) else r.json()
    assert rows and all("code" in row or "number" in row or "tier" in row for row in rows)
