"""The loaded demo is consistent for dispatch: every problem type of its catalog has at least two officers
of every street capable of its matter at the rank its colour needs, as the ranking itself judges them
(so a red 消防通道堵塞 report in 青山湖 finds a candidate once positions are fresh). The demo: the
session's one load (the demo_district fixture)."""
from django.utils import timezone

from command_center import dispatch
from command_center.models import Event
from command_center.services import intake
from enforcement import selectors as enforcement_selectors
from grids.choices import AreaKind
from grids.models import Area, Officer, Subject

# What the ranking may leave an officer out for that is not about who they are (the moment's state).
MOMENTARY = {"off_duty", "no_position", "stale_position", "had_event"}


def test_every_problem_type_has_two_capable_officers_of_rank_in_every_street(demo_district):
    published = enforcement_selectors.matters().values("code")
    types = list(enforcement_selectors.problem_types().filter(active=True, matter_code__in=published).order_by("code"))
    streets = list(Area.objects.filter(kind=AreaKind.STREET).defer("boundary").order_by("code"))
    assert len(types) >= 30 and len(streets) >= 5
    gaps = []
    for street in streets:
        officers = list(Officer.objects.filter(team__street=street).order_by("id"))
        for pt in types:
            # A delegated matter: only the street's own officers are in the pool, the strictest case.
            event = Event(street_id=street.pk, matter_code=pt.matter_code, severity=pt.default_severity,
                          delegated=True, lat=0.0, lng=0.0)
            capable = [o for o in officers if not set(dispatch.eligibility(event, o).failed) - MOMENTARY]
            if len(capable) < 2:
                gaps.append((street.name, pt.code, pt.default_severity, len(capable)))
    assert gaps == []

    # The report that could never be dispatched: red 消防通道堵塞 in 青山湖, positions fresh (the demo walk).
    Officer.objects.update(last_position_at=timezone.now())
    qsh = next(s for s in streets if s.name == "青山湖街道")
    lat, lng = Subject.objects.filter(grid__path__startswith=qsh.path).values_list("lat", "lng").first()
    event, _created = intake.intake_event(None, {"source": "citizen", "problem_type": "XFTDDS", "lat": lat, "lng": lng,
                                                 "description": "小区消防通道被车辆堵塞"})
    assert event.severity == "red" and event.street_id == qsh.pk
    best = dispatch.best(event)
    assert best is not None and best.rank >= dispatch.min_rank_for("red")
