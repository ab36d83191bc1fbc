"""Two planners add the same subject to the plan at the same moment, through real requests on two
connections (PostgreSQL: the integration suite). One wins; the other gets 409; one row."""
import threading

import pytest

from inspections import services
from inspections.models import Visit
from inspections.testing import month_str, workday_in


@pytest.mark.integration  # SQLite's shared-cache test database refuses concurrent writers outright
@pytest.mark.django_db(transaction=True)
def test_two_planners_at_once_one_wins(api, users, world):
    plan = services.draft_plan(users["leader_s1"], street="S1", month=month_str(world["month"]))
    planned = set(plan.visits.values_list("subject_id", flat=True))
    free = next(s for s in world["subjects"] if s.pk not in planned)
    day = workday_in(world["month"], 1).isoformat()
    barrier = threading.Barrier(2)
    results = []

    def add(officer_id):
        from django.db import connection

        try:
            barrier.wait()
            results.append(api(users["leader_s1"]).post(f"/api/v1/inspection-plans/{plan.pk}/visits/", {
                "subject": free.pk, "date": day, "officers": [officer_id]}, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(o,)) for o in (world["o1"].pk, world["o2"].pk)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409], results
    assert Visit.objects.filter(subject=free, kind="concentrated").count() == 1
