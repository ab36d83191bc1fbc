"""The demo catalog on the small test district: the figures the seeds ask for."""
import pytest

from core.exceptions import Conflict
from enforcement import demo, selectors
from enforcement.models import Checklist, Matter, ProblemType, Scenario

pytestmark = pytest.mark.django_db


def test_plan_is_deterministic():
    assert demo.build_matters(7) == demo.build_matters(7)
    rows = demo.build_matters()
    assert len(rows) >= 300 and len({r["code"] for r in rows}) == len(rows)
    assert sum(r["non_site"] for r in rows) == 70 and len({r["domain"] for r in rows}) == 13


def test_load(district, teams):
    counts = demo.load()
    assert counts["matters"] >= 300 and counts["non_site"] == 70 and counts["domains"] == 13
    assert counts["qsh_matters"] == 306 and counts["qsh_domains"] == 13   # S2, the general street here
    assert counts["construction_checklist_items"] == 42
    site = Checklist.objects.get(code="JC-JSGD")
    assert site.areas.count() == 9 and site.items.count() == 42
    assert ProblemType.objects.count() >= 20 and Scenario.objects.count() >= 5
    venue = Scenario.objects.get(code="CJ002")
    summary = selectors.scenario_summary(venue)
    assert summary["supervision"] == {"departments": 11, "items": 37}
    assert summary["enforcement"] == {"departments": 7, "items": 37}
    gas = Scenario.objects.get(code="CJ001")
    assert {i.department.code for i in gas.items.all()} == {"ZJ", "ZHZF", "SCJG", "XF"}
    assert selectors.current_version().number == 2
    assert Matter.objects.filter(version__number=1).count() < counts["matters"]     # V1 archived, readable
    decision = selectors.route("ZDJY", 30.2, 120.2)
    assert decision.delegated and decision.team.code == "T-S1"
    with pytest.raises(Conflict):
        demo.load()
