"""Inspect once: the merged checklist of a subject, without duplicates, grouped by department."""
import pytest

from grids.testing import *  # noqa: F403
from enforcement.services import checklists as checklists_services
from enforcement.services import scenarios as scenarios_services
from enforcement.models import ChecklistItem
from grids import services as grid_services
from grids.models import SubjectCategory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(catalog, district, categories):
    food, rest, site = categories["food"], categories["restaurant"], categories["site"]
    cl_food, _ = checklists_services.save_checklist(None, code="CL-FOOD", name="餐饮通用清单", category=food)
    cl_rest, _ = checklists_services.save_checklist(None, code="CL-REST", name="餐馆清单", category=rest)
    checklists_services.save_checklist_item(None, cl_food, code="1", area_name="环境", matter_code="SR-001", text="安装油烟净化设施")
    checklists_services.save_checklist_item(None, cl_food, code="2", area_name="食品", matter_code="SC-002", text="取得食品经营许可")
    checklists_services.save_checklist_item(None, cl_rest, code="1", area_name="环境", matter_code="SR-001", text="安装油烟净化设施 ")
    fire, _ = checklists_services.save_checklist_item(None, cl_rest, code="2", area_name="消防", matter_code="XF-001",
                                           text="消防车通道畅通")
    scenarios_services.create_scenario(None, code="SC-S1", name="街道1一件事", areas=[district["S1"]], publish=True, items=[
        {"kind": "enforcement", "matter_code": "SC-001"},
        {"kind": "supervision", "checklist_item": fire.pk},
    ])
    scenarios_services.create_scenario(None, code="SC-DRAFT", name="草稿场景", categories=[food], items=[
        {"kind": "enforcement", "matter_code": "GH-001"}])
    scenarios_services.create_scenario(None, code="SC-SITE", name="工地场景", categories=[site], publish=True, items=[
        {"kind": "enforcement", "matter_code": "GH-001"}])
    s1 = grid_services.insert_subject(None, name="一号餐馆", category=rest, lat=30.2, lng=120.2)
    s2 = grid_services.insert_subject(None, name="二号餐馆", category=rest, lat=30.7, lng=121.7)
    return {"s1": s1, "s2": s2, "fire": fire}


def test_merged_checklist(setup, users, api):
    r = api(users["leader_s1"]).get(f"/api/v1/subjects/{setup['s1'].pk}/checklist/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert [s["code"] for s in body["sources"]] == ["CL-FOOD", "CL-REST", "SC-S1"]
    assert [d["code"] for d in body["departments"]] == ["SCJG", "ZHZF", "XF"]   # enforcement first, then supervising
    assert body["item_count"] == 4
    groups = {g["department"]["code"]: g["items"] for g in body["groups"]}
    assert [i["text"] for i in groups["SCJG"]] == ["取得食品经营许可", "对无证无照经营的行政处罚"]
    (fume,) = groups["ZHZF"]   # the same item in two checklists appears once, with both sources
    assert fume["matter_code"] == "SR-001" and [s["code"] for s in fume["sources"]] == ["CL-FOOD", "CL-REST"]
    (fire,) = groups["XF"]     # the scenario's item is the checklist item itself: one entry
    assert [s["code"] for s in fire["sources"]] == ["CL-REST", "SC-S1"] and fire["area"] == "消防"
    texts = [i["text"] for items in groups.values() for i in items]
    assert len(texts) == len(set(texts))


def test_scenario_by_area_applies_only_there(setup, users, api):
    body = api(users["bureau"]).get(f"/api/v1/subjects/{setup['s2'].pk}/checklist/").json()
    assert [s["code"] for s in body["sources"]] == ["CL-FOOD", "CL-REST"]
    assert body["item_count"] == 3


def test_scenario_by_major_category(setup, users, api, categories, district):
    site = grid_services.insert_subject(None, name="工地", category=categories["building_site"],
                                        lat=30.7, lng=121.7)
    body = api(users["bureau"]).get(f"/api/v1/subjects/{site.pk}/checklist/").json()
    assert [s["code"] for s in body["sources"]] == ["SC-SITE"]
    assert body["departments"][0]["code"] == "ZHZF"


@pytest.mark.parametrize("who", ["leader_s2", "nobody", "platform_s2"])
def test_other_streets_get_404(setup, users, api, who):
    r = api(users[who]).get(f"/api/v1/subjects/{setup['s1'].pk}/checklist/")
    assert r.status_code == 404


def test_unknown_subject_404(setup, users, api):
    assert api(users["bureau"]).get("/api/v1/subjects/999999/checklist/").status_code == 404


def test_query_count_is_bounded(setup, users, api, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        assert api(users["leader_s1"]).get(f"/api/v1/subjects/{setup['s1'].pk}/checklist/").status_code == 200


def test_checklist_item_department_comes_from_the_matter(setup):
    item = ChecklistItem.objects.get(checklist__code="CL-FOOD", code="2")
    assert item.department.code == "SCJG"
    _, state = checklists_services.save_checklist_item(None, item.checklist, code="2", area_name="食品", matter_code="SC-002",
                                            text="取得食品经营许可")
    assert state == "unchanged"


def test_checklist_api(setup, users, api):
    r = api(users["officer_s1"]).get("/api/v1/checklists/", {"category": "FOOD-R"})
    assert [c["code"] for c in r.json()["results"]] == ["CL-FOOD", "CL-REST"]
    detail = api(users["officer_s1"]).get(f"/api/v1/checklists/{r.json()['results'][1]['id']}/").json()
    assert detail["areas"] == ["环境", "消防"] and [i["code"] for i in detail["items"]] == ["1", "2"]
    assert SubjectCategory.objects.filter(code="FOOD-R").exists()
