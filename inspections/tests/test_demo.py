"""The demo part: last month's approved plan with completed visits (the 42-item construction-site
checklist on construction sites), findings rectified on the spot and by deadline, some overdue, and this
month's draft plan. Checked on the whole demo (the session's one `load_demo`: the demo_district fixture)."""
from django.utils import timezone

from inspections.models import Finding, InspectionPlan, Visit


def test_demo_plans_visits_and_rectifications(demo_district):
    out = demo_district.results["inspections.demo.load"]
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
