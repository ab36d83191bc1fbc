"""Fixtures of the cases tests: a published catalog with fine ranges, officers enough for two handlers
per street, a restaurant in S1, the no-penalty lists, a quality checklist; `walk` takes a case through
its steps with the right people."""
import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cases import demo, services
from cases.testing import outcome
from cases.choices import LenientGround, PartyKind
from cases.models import LenientListEntry, QualityChecklistItem
from core import roles
from enforcement.services import catalog as catalog_services
from grids import accounts
from grids.models import Officer, Subject


@pytest.fixture
def catalog(users, departments):
    bureau = users["bureau"]
    for code, name, dep, fine_min, fine_max, major in (
        ("M-SHOP", "店外经营", "ZHZF", "50", "500", False),
        ("M-FUME", "油烟超标排放", "SCJG", "5000", "50000", False),
        ("M-BIG", "违法建设", "ZHZF", "10000", "500000", True),
        ("M-WARN", "乱张贴", "ZHZF", None, None, False),
    ):
        catalog_services.create_matter(bureau, code=code, name=name, law="《城市市容和环境卫生管理条例》",
                                       department=dep, kind="administrative_penalty", domain="city",
                                       major_decision=major, fine_min=fine_min, fine_max=fine_max)
    version = catalog_services.publish_draft(bureau)
    LenientListEntry.objects.create(matter_code="M-SHOP", ground=LenientGround.FIRST)
    LenientListEntry.objects.create(matter_code="M-SHOP", ground=LenientGround.MINOR)
    LenientListEntry.objects.create(matter_code="M-WARN", ground=LenientGround.MEDIATED)
    return version


def _officer(username, team, department, badge, area):
    user, _ = accounts.add_user(None, username=username, role=roles.OFFICER, area_codes=[area], password="pass-word-1")
    return Officer.objects.create(user=user, name=username, badge_no=badge, team=team, home_department=department)


@pytest.fixture
def handlers(officers, teams, departments):
    """Three officers of S1 (officer_s1 among them) and two of S2."""
    s1 = [officers["s1"], _officer("h_s1_b", teams["S1"], departments["ZHZF"], "B101", "S1"),
          _officer("h_s1_c", teams["S1"], departments["SCJG"], "B102", "S1")]
    s2 = [officers["s2"], _officer("h_s2_b", teams["S2"], departments["ZHZF"], "B201", "S2")]
    return {"s1": s1, "s2": s2}


@pytest.fixture
def shop(district, categories):
    return Subject.objects.create(name="老王面馆", category=categories["restaurant"], lat=30.2, lng=120.2,
                                  grid=district["S1G1"], contact_phone="13900001111")


@pytest.fixture
def checklist(db):
    return [QualityChecklistItem.objects.create(code="Q1", text="立案审批手续完备", max_points=40),
            QualityChecklistItem.objects.create(code="Q2", text="证据确实充分", max_points=60)]


@pytest.fixture
def file_case(users, catalog, handlers, shop):
    def make(*, matter_codes=("M-SHOP",), actor=None, party_kind=PartyKind.BUSINESS, facts="占道经营，店外摆放桌椅。",
             **extra):
        kwargs = {"subject": shop} if party_kind == PartyKind.BUSINESS else {}
        kwargs.update(extra)
        return services.file_case(
            actor or users["officer_s1"], party_kind=party_kind, facts=facts,
            facts_on=timezone.localdate() - dt.timedelta(days=1), matter_codes=list(matter_codes),
            handler_ids=[o.pk for o in handlers["s1"][:2]], **kwargs)
    return make


@pytest.fixture
def walk(users):
    """walk(case, "served", outcomes=[...]) takes the case there by the ordinary steps (cases.demo.advance)."""
    def go(case, to, *, outcomes=None, legal=True):
        return demo.advance(case, to, handler=users["officer_s1"], leader=users["leader_s1"], reviewer=users["bureau"],
                            outcomes=outcomes or [outcome()], legal=legal)
    return go


__all__ = ["outcome", "get_user_model"]
