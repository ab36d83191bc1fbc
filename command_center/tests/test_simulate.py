"""`manage.py simulate`: events through intake at the asked rate, officers walking inside their street,
a running count, a clean stop on Ctrl-C, clear refusals of bad arguments."""
from io import StringIO

import pytest
import shapely
from django.core.management import CommandError, call_command
from shapely.geometry import shape

from command_center.management.commands import simulate
from command_center.models import Event
from grids.choices import DutyStatus
from grids.models import OfficerPosition

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_duty(officers):
    officers["s1"].duty_status = DutyStatus.AVAILABLE
    officers["s1"].save(update_fields=["duty_status"])
    return officers["s1"]


def test_short_run_reports_events_and_moves_officers(catalog, on_duty, district):
    out = StringIO()
    call_command("simulate", rate=20, duration=1.5, seed=7, move_every=1, report_every=0.5, stdout=out)
    text = out.getvalue()
    events = list(Event.objects.all())
    # At 20/s for 1.5 s on a shared 2-core machine: some, and never more than the rate allows.
    assert 3 <= len(events) <= 31, text
    assert all(e.external_id.startswith("SIM-") and e.street_id and e.grid_id for e in events)
    assert {e.problem_type_code for e in events} <= {"ZDJY", "YYCB"}
    assert len({e.source for e in events}) >= 2
    assert all(e.timeline.filter(action="create").exists() and e.deadlines.exists() for e in events)
    # The running count was printed more than once, and the final line counts what is in the database.
    assert text.count("事件") >= 3 and f"事件 {len(events)}" in text.splitlines()[-2] + text.splitlines()[-1]
    # The officer walked, inside the street, through the service that records pings.
    pings = list(OfficerPosition.objects.filter(officer=on_duty, source="simulate").order_by("recorded_at"))
    assert len(pings) >= 1
    street = shape(district["S1"].boundary)
    assert all(shapely.contains_xy(street, p.lng, p.lat) for p in pings)
    on_duty.refresh_from_db()
    assert (on_duty.last_lat, on_duty.last_lng) == (pings[-1].lat, pings[-1].lng)


def test_reports_are_realistic_and_reproducible(catalog, district):
    a, b = simulate.Simulator(seed=3), simulate.Simulator(seed=3)
    rows_a = [a.next_report() for _ in range(200)]
    rows_b = [b.next_report() for _ in range(200)]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "external_id"} for r in rows]  # noqa: E731
    assert strip(rows_a) == strip(rows_b)
    sources = {r["source"] for r in rows_a}
    assert {"hotline_12345", "citizen", "grid_worker"} <= sources
    # Mostly the problem type's own colour, sometimes an explicit one; reporters only for people.
    explicit = [r for r in rows_a if "severity" in r]
    assert 10 <= len(explicit) <= 80
    assert all(("reporter_phone" in r) == (r["source"] in ("citizen", "hotline_12345")) for r in rows_a)
    district_box = shape(district["district"].boundary)
    assert all(shapely.contains_xy(district_box, r["lng"], r["lat"]) for r in rows_a)


def test_reports_about_subjects_are_placed_at_one(catalog, district, categories):
    from grids import services as grid_services

    shop = grid_services.insert_subject(None, name="老王面馆", category=categories["restaurant"],
                                        lat=30.2, lng=120.2)
    sim = simulate.Simulator(seed=1)
    sim.problem_types = [pt for pt in sim.problem_types if pt.about_subject]  # YYCB: restaurant fume
    sim.grids = [(g, b) for g, b in sim.grids if g.pk == shop.grid_id]
    for _ in range(5):
        sim.report_one()
    assert sim.events == 5
    assert set(Event.objects.values_list("subject_id", flat=True)) == {shop.pk}


def test_ctrl_c_stops_cleanly_with_the_count(catalog, district, monkeypatch):
    calls = {"n": 0}
    real = simulate.Simulator.report_one

    def report_then_interrupt(self):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        real(self)

    monkeypatch.setattr(simulate.Simulator, "report_one", report_then_interrupt)
    out = StringIO()
    call_command("simulate", rate=50, seed=1, move_every=0, stdout=out)  # no duration: until Ctrl-C
    assert Event.objects.count() == 3
    assert "完成" in out.getvalue() and "事件 3" in out.getvalue()


@pytest.mark.parametrize("args", [{"rate": 0}, {"rate": -1}, {"rate": float("nan")}, {"rate": 1, "duration": -1},
                                  {"rate": 1, "report_every": 0}])
def test_bad_arguments_are_refused(catalog, args):
    with pytest.raises(CommandError):
        call_command("simulate", stdout=StringIO(), **args)


def test_empty_catalog_is_refused(district):
    with pytest.raises(CommandError, match="load_demo"):
        call_command("simulate", rate=1, duration=0.1, stdout=StringIO())
