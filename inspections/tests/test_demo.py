"""The demo part: last month's approved plan with completed visits (the 42-item construction-site
checklist on construction sites), findings rectified on the spot and by deadline, some overdue, and this
month's draft plan."""
import pytest
from django.utils import timezone

from inspections.models import Finding, InspectionPlan, Visit


@pytest.mark.django_db
def test_demo_plans_visits_and_rectifications():
    from credit import demo as credit_demo
    from enforcement import demo as enforcement_demo
    from grids import demo as grids_demo
    from inspections import demo

    results = {}
    for loader in (grids_demo.load, enforcement_demo.load, credit_demo.load):
        results[loader.__module__] = loader(results=results)
    out = demo.load(results=results)
    this_month = timezone.localdate().replace(day=1)
    past, draft = InspectionPlan.objects.order_by("month")
    assert past.status == "approved" and past.month < this_month
    assert draft.status == "draft" and draft.month == this_month
    done = Visit.objects.filter(plan=past, status="completed")
    assert done.count() == out["completed_visits"] > 0
    assert done.filter(item_count__gte=42).exists()  # the construction-site checklist (42 items + scenarios)
    assert Finding.objects.filter(visit__item_count__gte=42).count() >= 42
    assert Finding.objects.filter(rectification="on_the_spot").exists()
    assert Finding.objects.filter(rectification="deadline", rectification_status="done").exists()
    assert Finding.objects.filter(rectification_status="overdue").count() == out["overdue"] > 0
    assert out["draft_visits_planned"] > 0 and 0 < out["draft_reduction_percent"] < 100
