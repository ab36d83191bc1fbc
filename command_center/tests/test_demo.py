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
