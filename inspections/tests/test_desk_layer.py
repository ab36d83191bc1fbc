"""The visits the desk map shows: GET /api/v1/inspections/?date=…&approved=true gives dispatchers the day's
visits that reach the officers (outside a plan or in an approved plan), scoped by their streets."""
import pytest
from django.utils import timezone

from inspections.models import InspectionPlan, Visit

URL = "/api/v1/inspections/"


def _visit(world, subject, plan=None, **extra):
    today = timezone.localdate()
    fields = {"kind": "one_off", "one_off_reason": "complaint", "reason": "one_off"}
    fields.update(extra)
    return Visit.objects.create(street=world["street"], subject=subject, date=today, month=today.replace(day=1),
                                plan=plan, **fields)


@pytest.mark.django_db
def test_approved_filter_and_scope(api, users, world, district):
    world["street"] = district["S1"]
    today = timezone.localdate()
    live = _visit(world, world["subjects"][0])
    draft = InspectionPlan.objects.create(street=district["S1"], month=today.replace(day=1), draw_seed="a")
    drafted = _visit(world, world["subjects"][1], plan=draft, kind="concentrated", one_off_reason="", reason="manual")
    query = {"date": today.isoformat(), "approved": "true"}
    r = api(users["dispatcher"]).get(URL, query)
    assert r.status_code == 200
    rows = r.json()["results"]
    assert [v["id"] for v in rows] == [live.pk] and rows[0]["lat"] == world["subjects"][0].lat
    assert [v["id"] for v in api(users["dispatcher"]).get(URL, {**query, "approved": "false"}).json()["results"]] == [
        drafted.pk]
    draft.status = "approved"
    draft.save(update_fields=["status"])
    assert len(api(users["dispatcher"]).get(URL, query).json()["results"]) == 2
    # Another street's team leader sees none of them; a client without a visit role is refused.
    assert api(users["leader_s2"]).get(URL, query).json()["results"] == []
    assert api(users["platform"]).get(URL, query).status_code == 403
    assert api(None).get(URL, query).status_code in (401, 403)
