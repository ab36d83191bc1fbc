"""Officers walking about their streets, each step a GPS ping through the grids service that records
positions (as an officer's phone would report it): `manage.py simulate` walks them, and so does the
embedded demo's in-process walk (`DemoWalk`, started by command_center.ticker when DEMO_SIMULATION is on),
so a newcomer's desk still has officers with a fresh position, and dispatch candidates, after an hour.
"""
import math
import random
from datetime import timedelta

import shapely
from django.db import transaction
from django.utils import timezone
from shapely.geometry import shape

from core.exceptions import DomainError
from grids import services as grid_services
from grids.choices import DutyStatus
from grids.demo_geometry import random_point_in
from grids.models import Area, Officer

WALK_SPEED_M_S = (1.0, 4.5)  # on foot … e-bike
METRES_PER_DEGREE = 111_320.0


def offset(lat: float, lng: float, metres: float, heading_deg: float) -> tuple[float, float]:
    """The point `metres` away on a compass heading (flat-earth: steps are a few metres)."""
    rad = math.radians(heading_deg)
    dlat = metres * math.cos(rad) / METRES_PER_DEGREE
    dlng = metres * math.sin(rad) / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 1e-6))
    return lat + dlat, lng + dlng


class OfficerWalk:
    """The on-duty officers (with an account) taking steps inside their team's street, round-robin."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.pings = self.ping_failures = 0
        self.last_error = ""
        self._officers = None
        self._walkers = {}
        self._cursor = 0

    def reload(self):
        """Read the on-duty officers again at the next step (some went off duty, others came on)."""
        self._officers = None

    def _load_officers(self):
        """On-duty officers with an account (a ping is reported by the officer's own phone), each with
        the outline of their team's street to walk within."""
        streets = {}
        officers = []
        qs = (Officer.objects.exclude(duty_status=DutyStatus.OFF_DUTY).filter(user__isnull=False, team__isnull=False)
              .select_related("user", "team").order_by("id"))
        for officer in qs:
            street_id = officer.team.street_id
            if street_id not in streets:
                street = Area.objects.filter(pk=street_id).only("boundary").first()
                geom = shape(street.boundary) if street and street.boundary else None
                if geom is not None:
                    shapely.prepare(geom)
                streets[street_id] = (geom, street.boundary if street else None)
            if streets[street_id][0] is not None:
                officers.append((officer, *streets[street_id]))
        return officers

    def move_some(self, share: float) -> int:
        """Move `share` of the on-duty officers one step (round-robin, so each moves in turn). Returns
        how many pings were recorded."""
        if self._officers is None:
            self._officers = self._load_officers()
        if not self._officers:
            return 0
        before = self.pings
        count = max(1, math.ceil(len(self._officers) * share))
        for _ in range(min(count, len(self._officers))):
            officer, geom, boundary = self._officers[self._cursor % len(self._officers)]
            self._cursor += 1
            self._step(officer, geom, boundary)
        return self.pings - before

    def _step(self, officer, geom, boundary):
        rng = self.rng
        now = timezone.now()
        walker = self._walkers.get(officer.pk)
        if walker is None:
            lat, lng = officer.last_lat, officer.last_lng
            if lat is None or lng is None or not shapely.contains_xy(geom, lng, lat):
                lat, lng = random_point_in(boundary, rng)
            walker = {"lat": lat, "lng": lng, "heading": rng.uniform(0, 360), "speed": rng.uniform(*WALK_SPEED_M_S),
                      "at": now - timedelta(seconds=5)}
            self._walkers[officer.pk] = walker
        seconds = min(max((now - walker["at"]).total_seconds(), 1.0), 60.0)
        heading = (walker["heading"] + rng.uniform(-40, 40)) % 360
        for _attempt in range(4):  # at the street's edge, turn until the step stays inside
            lat, lng = offset(walker["lat"], walker["lng"], walker["speed"] * seconds, heading)
            if shapely.contains_xy(geom, lng, lat):
                break
            heading = (heading + 90 + rng.uniform(0, 90)) % 360
        else:
            lat, lng = walker["lat"], walker["lng"]
        try:
            with transaction.atomic():
                grid_services.record_position(officer.user, officer, lat=round(lat, 6), lng=round(lng, 6), recorded_at=now,
                                              accuracy=round(rng.uniform(3, 15), 1), heading=round(heading, 1),
                                              source="simulate")
        except DomainError as exc:
            self.ping_failures += 1
            self.last_error = str(exc)[:200]
            return
        walker.update(lat=lat, lng=lng, heading=heading, at=now)
        self.pings += 1

    @property
    def officer_count(self) -> int:
        return len(self._officers or ())


class DemoWalk:
    """The embedded demo's walk, one `step` per tick of its own gentle ticker: each step moves the share
    of the on-duty officers that has every one of them report once a lap (DEMO_SIMULATION_LAP_SECONDS,
    well inside COMMAND_CENTER_POSITION_FRESH_SECONDS), each ping its own short transaction so the SLA
    ticker's sweep never waits long for SQLite's lock. The on-duty list is read again every lap."""

    def __init__(self, *, interval: float, lap_seconds: float, seed: int | None = None):
        self.walk = OfficerWalk(random.Random(seed))
        self.share = min(1.0, max(interval, 0.1) / max(lap_seconds, interval, 0.1))
        self.steps_per_lap = max(1, math.ceil(1.0 / self.share))
        self.steps = 0

    def step(self) -> int:
        if self.steps and self.steps % self.steps_per_lap == 0:
            self.walk.reload()
        self.steps += 1
        return self.walk.move_some(self.share)
