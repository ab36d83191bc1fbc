"""A published catalog, a two-department checklist for restaurants, subjects and a second officer in S1."""
import pytest

from core import roles
from enforcement.services import checklists as checklist_services
from enforcement.testing import build_catalog
from grids import accounts
from grids import services as grid_services
from grids.models import Officer
from inspections.testing import next_month


@pytest.fixture
def world(district, users, categories, departments, teams, officers):
    build_catalog(district, departments, teams)
    cl, _ = checklist_services.save_checklist(None, code="CL-FOOD", name="餐饮综合查一次", category=categories["food"])
    checklist_services.save_checklist_item(None, cl, code="F1", area_name="证照", matter_code="SC-001",
                                           text="是否持证经营", weight=5, order=1)
    checklist_services.save_checklist_item(None, cl, code="F2", area_name="市容", matter_code="SR-001",
                                           text="是否占道经营", weight=2, order=2)
    subjects = [grid_services.insert_subject(None, name=f"面馆{i}", category=categories["restaurant"],
                                             lat=30.1 + i * 0.01, lng=120.1 + i * 0.01) for i in range(4)]
    s2_subject = grid_services.insert_subject(None, name="东边面馆", category=categories["restaurant"],
                                              lat=30.5, lng=121.5)
    user2, _ = accounts.add_user(None, username="officer2_s1", role=roles.OFFICER, area_codes=["S1"],
                                 password="pass-word-1")
    o2 = Officer.objects.create(user=user2, name="王五", badge_no="B003", team=teams["S1"],
                                home_department=departments["SCJG"])
    return {"subjects": subjects, "s2_subject": s2_subject, "o1": officers["s1"], "o2": o2, "o_s2": officers["s2"],
            "officer2_user": user2, "month": next_month()}


