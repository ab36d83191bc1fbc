"""Fixtures for the command center: a small published catalog and a helper that reports events."""
from datetime import date

import pytest

from command_center.services import intake

# Points inside the conftest district: S1 grid 1 micro-grid 1, and S2 grid 1 micro-grid 1.
S1_POINT = (30.2, 120.2)
S2_POINT = (30.2, 121.2)


@pytest.fixture(autouse=True)
def _fresh_routing_cache():
    from enforcement import routing

    routing.invalidate()
    yield
    routing.invalidate()


@pytest.fixture(autouse=True)
def _dispatchable_officers(request):
    """The shared officers as the desk meets them in the command center's tests: on duty, a fresh position
    at their street's point, 李四 also qualified for the comprehensive enforcement
    department's matters, so the desk's pick needs no override (dispatching.OVERRIDABLE). Tests of the
    ranking or the override set them otherwise."""
    if "officers" not in request.fixturenames:
        return
    from django.utils import timezone

    from grids.choices import DutyStatus
    from grids.models import Department, Officer

    officers = request.getfixturevalue("officers")
    now = timezone.now()
    for key, (lat, lng) in (("s1", S1_POINT), ("s2", S2_POINT)):
        Officer.objects.filter(pk=officers[key].pk).update(duty_status=DutyStatus.AVAILABLE,
                                                           last_lat=lat, last_lng=lng, last_position_at=now)
        officers[key].refresh_from_db()
    officers["s2"].skill_departments.add(*Department.objects.filter(code="ZHZF"))


@pytest.fixture
def catalog(district, departments, teams):
    """Two matters of the comprehensive enforcement department, both delegated to S1 only; problem types
    ZDJY (street vending, yellow) and YYCB (restaurant fume, orange, about a subject)."""
    from enforcement.services import catalog as catalog_services
    from enforcement.services import power as power_services

    catalog_services.create_matter(None, code="M-ZD", name="占道经营", law="《城市市容和环境卫生管理条例》", article="第三十六条",
                     department="ZHZF", kind="administrative_penalty", domain="市容")
    catalog_services.create_matter(None, code="M-YY", name="餐饮油烟超标排放", law="《大气污染防治法》", article="第一百一十八条",
                     department="ZHZF", kind="administrative_penalty", domain="环保")
    for code in ("M-ZD", "M-YY"):
        catalog_services.delegate(None, matter_code=code, street_code="S1", effective_from=date(2020, 1, 1))
    power_services.save_problem_type(None, code="ZDJY", name="占道经营", matter_code="M-ZD", default_severity="yellow")
    power_services.save_problem_type(None, code="YYCB", name="油烟超标", matter_code="M-YY", default_severity="orange", about_subject=True)
    catalog_services.publish_draft(None)
    return {"problem_types": ["ZDJY", "YYCB"]}


@pytest.fixture
def report(catalog, users):
    """report(**fields) → a new event through intake (by the district platform unless client= is given)."""

    def make(client=None, key=None, **fields):
        lat, lng = fields.pop("point", S1_POINT)
        data = {"source": "citizen", "problem_type": "ZDJY", "description": "人行道上有流动摊贩占道经营",
                "lat": lat, "lng": lng, **fields}
        event, _created = intake.intake_event(client or users["platform"], data, idempotency_key=key)
        return event

    return make
