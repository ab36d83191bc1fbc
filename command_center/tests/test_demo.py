import pytest

from command_center import demo
from command_center.models import Event, SlaPolicy
from grids.models import Subject

pytestmark = pytest.mark.django_db


def test_demo_part_adds_street_policies_and_live_events(catalog, categories, district, officers):
    for i, lat in enumerate((30.2, 30.6)):
        Subject.objects.create(name=f"店{i}", category=categories["restaurant"], lat=lat, lng=120.2, grid=district["S1G1"])
    counts = demo.load(seed=1)
    assert counts["sla_policies"] == 4 and counts["events"] == 24 and counts["events_skipped"] == 0
    assert SlaPolicy.objects.filter(street=district["S1"], severity="red").exists()
    assert Event.objects.count() == 24 and Event.objects.filter(street=district["S1"]).count() == 24


def test_demo_part_has_events_under_review_returned_and_a_deliberation(catalog, categories, district, officers):
    from command_center.models import Deliberation, ReviewRule

    for i, lat in enumerate((30.2, 30.21, 30.22)):
        Subject.objects.create(name=f"店{i}", category=categories["restaurant"], lat=lat, lng=120.2, grid=district["S1G1"])
    counts = demo.load(seed=2)
    assert counts["review_rules"] == 4 and ReviewRule.objects.filter(street__isnull=True).count() == 4
    assert counts["reviewed"] == {"under_review": 2, "returned": 1, "approved": 1, "deliberation": 1}
    assert Event.objects.filter(status="under_review").count() == 2
    assert Event.objects.exclude(return_reason="").filter(status="accepted").count() == 1
    record = Deliberation.objects.get()
    assert record.meetings.count() == 1 and len(record.participants) == 4
