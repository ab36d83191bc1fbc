"""The monthly plan: drafting, figures, editing, the one-visit rule, approval, and every refusal."""
import pytest

from core.models import AuditLog
from inspections import selectors, services
from inspections.choices import DueReason, PlanStatus
from inspections.models import InspectionPlan, Visit
from inspections.testing import month_str, workday_in

URL = "/api/v1/inspection-plans/"


def draft(api, users, world, **extra):
    r = api(users["leader_s1"]).post(URL, {"street": "S1", "month": month_str(world["month"]), **extra}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


@pytest.mark.django_db
def test_draft_plan_one_joint_visit_per_subject_with_computed_figures(api, users, world):
    body = draft(api, users, world, subjects=[s.pk for s in world["subjects"][:2]])
    assert body["street"] == "S1" and body["month"] == month_str(world["month"]) and body["status"] == "draft"
    visits = body["visits"]
    subjects = [v["subject"] for v in visits]
    assert len(subjects) == len(set(subjects))  # one visit per subject
    assert {world["subjects"][0].pk, world["subjects"][1].pk} <= set(subjects)
    for v in visits:
        assert v["item_count"] == 2 and sorted(v["departments"]) == ["SCJG", "ZHZF"]
        assert {o["id"] for o in v["officers"]} == {world["o1"].pk, world["o2"].pk}  # the joint team
        assert v["reason"] in DueReason.values and v["date"].startswith(month_str(world["month"]))
    # Two departments per subject would have made two separate visits each.
    assert body["visits_planned"] == len(visits)
    assert body["separate_visits_replaced"] == 2 * len(visits)
    assert body["reduction_percent"] == 50.0
    plan = InspectionPlan.objects.get(pk=body["id"])
    assert AuditLog.objects.filter(action="inspections.plan_drafted", object_id=str(plan.pk)).exists()


@pytest.mark.django_db
def test_green_spot_checks_draw_inspectors_reproducibly(api, users, world):
    body = draft(api, users, world)
    spots = [v for v in body["visits"] if v["reason"] == DueReason.GREEN_SPOT_CHECK]
    assert spots, "the green draw takes at least one subject of the street"
    assert all(v["draw_seed"].startswith(body["draw_seed"] + ":") for v in spots)
    # The recorded seed is the whole input of the draw: the same seed draws the same inspectors.
    import random
    from datetime import date
    from grids.models import Area, Department
    for v in spots:
        team = services._Team(Area.objects.get(code="S1"))
        depts = sorted(Department.objects.filter(code__in=v["departments"]).values_list("pk", flat=True))
        again = team.pick(depts, date.fromisoformat(v["date"]), random.Random(v["draw_seed"]))
        assert sorted(again) == sorted(o["id"] for o in v["officers"])
    assert all(v["draw_seed"] == "" for v in body["visits"] if v["reason"] != DueReason.GREEN_SPOT_CHECK)


@pytest.mark.django_db
def test_days_respect_daily_cap_and_route_order(api, users, world, settings):
    settings.INSPECTIONS_DAILY_CAP = 1
    body = draft(api, users, world, subjects=[s.pk for s in world["subjects"]])
    per_day = {}
    for v in body["visits"]:
        for o in v["officers"]:
            per_day[(o["id"], v["date"])] = per_day.get((o["id"], v["date"]), 0) + 1
    assert max(per_day.values()) == 1


def test_nearest_neighbour_route_is_shorter_than_list_order():
    from inspections import routing

    points = [(30.0, 120.0), (30.0, 120.3), (30.0, 120.1), (30.0, 120.2)]
    order = routing.nearest_neighbour_order(points)
    assert order == [0, 2, 3, 1]
    assert routing.route_length_m([points[i] for i in order]) < routing.route_length_m(points)


@pytest.mark.django_db
@pytest.mark.parametrize("payload, field", [
    ({"street": "NOPE", "month": None}, "street"),
    ({"street": "S1", "month": "2020-01"}, "month"),
    ({"street": "S1", "month": "2026-13"}, "month"),
])
def test_draft_refuses_bad_input_with_400(api, users, world, payload, field):
    payload = {**payload, "month": payload["month"] or month_str(world["month"])}
    r = api(users["leader_s1"]).post(URL, payload, format="json")
    assert r.status_code == 400 and field in r.json()
    assert not InspectionPlan.objects.exists()


@pytest.mark.django_db
def test_draft_refusals_by_area_and_role(api, users, world):
    month = month_str(world["month"])
    assert api(users["leader_s1"]).post(URL, {"street": "S2", "month": month}, format="json").status_code == 404
    assert api(users["officer_s1"]).post(URL, {"street": "S1", "month": month}, format="json").status_code == 403
    assert api(None).post(URL, {"street": "S1", "month": month}, format="json").status_code in (401, 403)
    draft(api, users, world)
    assert api(users["leader_s1"]).post(URL, {"street": "S1", "month": month}, format="json").status_code == 409


@pytest.mark.django_db
def test_plan_is_hidden_outside_the_users_areas_and_from_officers(api, users, world):
    plan = draft(api, users, world)
    assert api(users["leader_s2"]).get(f"{URL}{plan['id']}/").status_code == 404
    assert api(users["officer_s1"]).get(f"{URL}{plan['id']}/").status_code == 403
    assert api(users["bureau"]).get(f"{URL}{plan['id']}/").status_code == 200
    assert api(users["leader_s2"]).get(URL).json()["count"] == 0


def _add(api, user, plan_id, **body):
    return api(user).post(f"{URL}{plan_id}/visits/", body, format="json")


@pytest.mark.django_db
def test_add_move_remove_visit_and_refusals(api, users, world, settings):
    plan = draft(api, users, world)
    planned = {v["subject"] for v in plan["visits"]}
    free = next(s for s in world["subjects"] if s.pk not in planned)
    day = workday_in(world["month"], 1)
    leader = users["leader_s1"]
    # An officer of another street: 400 with the reason.
    r = _add(api, leader, plan["id"], subject=free.pk, date=day.isoformat(), officers=[world["o_s2"].pk])
    assert r.status_code == 400 and "officers" in r.json()
    # A subject of another street: 400.
    r = _add(api, leader, plan["id"], subject=world["s2_subject"].pk, date=day.isoformat(), officers=[world["o1"].pk])
    assert r.status_code == 400 and "subject" in r.json()
    r = _add(api, leader, plan["id"], subject=free.pk, date=day.isoformat(), officers=[world["o1"].pk])
    assert r.status_code == 201, r.content
    visit = r.json()
    # THE RULE: a second concentrated visit of the same subject in the month.
    r = _add(api, leader, plan["id"], subject=free.pk, date=workday_in(world["month"], 2).isoformat(),
             officers=[world["o2"].pk])
    assert r.status_code == 409
    # A one-off visit (complaint) is allowed, marked, and counted apart.
    r = _add(api, leader, plan["id"], subject=free.pk, date=day.isoformat(), officers=[world["o2"].pk],
             kind="one_off", one_off_reason="complaint")
    assert r.status_code == 201 and r.json()["kind"] == "one_off"
    detail = api(leader).get(f"{URL}{plan['id']}/").json()
    assert detail["one_off_visits"] == 1 and detail["visits_planned"] == len(plan["visits"]) + 1
    # Over the daily cap: 400 naming it.
    settings.INSPECTIONS_DAILY_CAP = 1
    other = workday_in(world["month"], 3)
    r = api(leader).patch(f"{URL}{plan['id']}/visits/{visit['id']}/", {"date": day.isoformat(),
                                                                        "officers": [world["o2"].pk]}, format="json")
    assert r.status_code == 400 and "officers" in r.json()
    settings.INSPECTIONS_DAILY_CAP = 8
    r = api(leader).patch(f"{URL}{plan['id']}/visits/{visit['id']}/", {"date": other.isoformat(),
                                                                        "officers": [world["o2"].pk]}, format="json")
    assert r.status_code == 200 and r.json()["date"] == other.isoformat()
    assert [o["id"] for o in r.json()["officers"]] == [world["o2"].pk]
    assert AuditLog.objects.filter(action="inspections.visit_moved", object_id=str(visit["id"])).exists()
    # Others may not edit: an officer 403, another street's leader 404.
    assert api(users["officer_s1"]).delete(f"{URL}{plan['id']}/visits/{visit['id']}/").status_code == 403
    assert api(users["leader_s2"]).delete(f"{URL}{plan['id']}/visits/{visit['id']}/").status_code == 404
    assert api(leader).delete(f"{URL}{plan['id']}/visits/{visit['id']}/").status_code == 204
    assert not Visit.objects.filter(pk=visit["id"]).exists()
    assert AuditLog.objects.filter(action="inspections.visit_removed", object_id=str(visit["id"])).exists()


@pytest.mark.django_db
def test_approval_only_by_the_streets_team_leader_and_amendments_recorded(api, users, world):
    plan = draft(api, users, world)
    url = f"{URL}{plan['id']}/approve/"
    assert api(users["bureau"]).post(url).status_code == 403
    assert api(users["dispatcher"]).post(url).status_code == 403
    assert api(users["leader_s2"]).post(url).status_code == 404
    r = api(users["leader_s1"]).post(url)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert api(users["leader_s1"]).post(url).status_code == 409
    # An approved plan can be amended; each change counts and is recorded.
    planned = {v["subject"] for v in plan["visits"]}
    free = next(s for s in world["subjects"] if s.pk not in planned)
    r = _add(api, users["leader_s1"], plan["id"], subject=free.pk, date=workday_in(world["month"], 1).isoformat(),
             officers=[world["o1"].pk])
    assert r.status_code == 201
    assert api(users["leader_s1"]).get(f"{URL}{plan['id']}/").json()["amendments"] == 1
    assert AuditLog.objects.filter(action="inspections.plan_amended").count() == 1


@pytest.mark.django_db
def test_the_rule_holds_when_the_planners_check_is_raced(api, users, world, monkeypatch):
    """Two planners add the same subject at once: both pass the service's check before either commits;
    the database's constraint lets one win (SQLite has no concurrent writers, so the race is replayed:
    the check is made to miss the first insert)."""
    plan = draft(api, users, world)
    planned = {v["subject"] for v in plan["visits"]}
    free = next(s for s in world["subjects"] if s.pk not in planned)
    monkeypatch.setattr(services.plan_editing, "_already_planned", lambda subject_id, first: False)
    day = workday_in(world["month"], 1).isoformat()
    results = [_add(api, users["leader_s1"], plan["id"], subject=free.pk, date=day, officers=[o]).status_code
               for o in (world["o1"].pk, world["o2"].pk)]
    assert sorted(results) == [201, 409]
    assert Visit.objects.filter(subject=free, kind="concentrated").count() == 1


@pytest.mark.django_db
def test_review_items_list_draft_plans_for_the_leader(api, users, world):
    plan = draft(api, users, world)
    items = selectors.review_items(users["leader_s1"])
    assert [(i.kind, i.id, i.street) for i in items] == [("inspection_plan", plan["id"], "S1")]
    assert selectors.review_items(users["leader_s2"]) == []
    assert selectors.review_items(users["officer_s1"]) == []
    services.approve_plan(users["leader_s1"], plan["id"])
    assert selectors.review_items(users["leader_s1"]) == []
    assert InspectionPlan.objects.get().status == PlanStatus.APPROVED


@pytest.mark.django_db
def test_list_endpoints_query_counts_are_pinned(api, users, world, django_assert_max_num_queries):
    plan = draft(api, users, world, subjects=[s.pk for s in world["subjects"]])
    with django_assert_max_num_queries(10):
        listed = api(users["leader_s1"]).get(URL).json()["results"]
    assert listed[0]["visits_planned"] == plan["visits_planned"]
    assert listed[0]["separate_visits_replaced"] == plan["separate_visits_replaced"]
    with django_assert_max_num_queries(14):
        assert len(api(users["leader_s1"]).get(f"{URL}{plan['id']}/").json()["visits"]) >= 4
    with django_assert_max_num_queries(10):
        assert api(users["leader_s1"]).get("/api/v1/inspections/").json()["count"] >= 4


@pytest.mark.django_db
def test_a_rectification_due_puts_a_reinspection_visit_in_the_next_plan(api, users, world):
    from datetime import timedelta
    from django.utils import timezone
    visit = services.create_visit(users["leader_s1"], street="S1", subject=world["subjects"][3].pk,
                                  date=timezone.localdate(), officers=[world["o1"].pk], kind="one_off",
                                  one_off_reason="event")
    due = world["month"] + timedelta(days=2)
    finding, _created = services.record_finding(users["officer_s1"], visit.pk, client_id="rx-1", item="F1",
                                                result="fail", rectification="deadline", comply_by=due)
    body = draft(api, users, world)
    row = next(v for v in body["visits"] if v["subject"] == world["subjects"][3].pk)
    assert row["reason"] == DueReason.REINSPECTION and row["date"] > due.isoformat()
    assert Visit.objects.get(pk=row["id"]).reinspects_id == finding.pk


@pytest.mark.django_db
def test_unscheduled_subjects_are_shown_placed_by_the_leader_or_carried_to_next_month(api, users, world, client):
    from grids.models import Area

    services.save_rules(None, daily_cap=1)
    first = world["month"]
    days = services.working_days(first)
    manual = [s.pk for s in world["subjects"]]
    # Only the month's last working day is left: one visit fits (both officers, cap 1), the rest wait.
    plan = services._draft(None, Area.objects.get(code="S1"), first, manual, since=days[-1])
    leader = api(users["leader_s1"])
    body = leader.get(f"{URL}{plan.pk}/").json()
    waiting = body["unscheduled"]
    assert len(waiting) >= 3 and len(waiting) + body["visits_planned"] >= len(manual)
    assert {w["why"] for w in waiting} == {"cap"} and all(w["subject_name"] and w["reason_label"] for w in waiting)
    assert not set(w["subject"] for w in waiting) & {v["subject"] for v in body["visits"]}
    client.force_login(users["leader_s1"])
    html = client.get(f"/inspections/plans/?plan={plan.pk}").content.decode()
    assert "unscheduled-h" in html and waiting[0]["subject_name"] in html
    # The leader places one on another day: it keeps the reason it was due, and leaves the list.
    placed = waiting[0]
    r = leader.post(f"{URL}{plan.pk}/visits/", {"subject": placed["subject"], "date": days[0].isoformat(),
                                               "officers": [world["o1"].pk]}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["reason"] == placed["reason"]
    assert AuditLog.objects.filter(action="inspections.unscheduled_placed", object_id=str(plan.pk)).exists()
    left = leader.get(f"{URL}{plan.pk}/").json()["unscheduled"]
    assert placed["subject"] not in {w["subject"] for w in left} and len(left) == len(waiting) - 1
    # The next month's draft takes the rest up first, saying why.
    services.save_rules(None, daily_cap=8)
    after = services.next_month(first)
    nxt = leader.post(URL, {"street": "S1", "month": month_str(after)}, format="json").json()
    carried = {v["subject"]: v for v in nxt["visits"]}
    for w in left:
        assert w["subject"] in carried and "顺延" in carried[w["subject"]]["reason_text"]
    assert all(w["carried_to_next_month"] for w in leader.get(f"{URL}{plan.pk}/").json()["unscheduled"])
    assert placed["subject"] not in carried or "顺延" not in carried[placed["subject"]]["reason_text"]
