"""The demo district: one load through `manage.py load_demo`, checked from every side.

Loading takes half a minute, so the session loads it once (the demo_district fixture replays what it wrote)
and one test function asserts the lot; determinism is checked on the pure plan (two builds, no database)
and pinned with a digest of a sample.
"""
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.test import Client
from shapely import contains_xy
from shapely.geometry import shape

from core.models import AuditLog
from core.roles import ALL_ROLES
from grids import demo
from grids.choices import AreaKind, DutyStatus, Rank, SubjectStatus
from grids.models import Area, AreaMembership, Department, Officer, OfficerPosition, Subject, SubjectCategory, Team

# sample_digest(first 20 subjects of the default seed): changes only when the generator changes on purpose.
DIGEST_FIRST_20 = "840732f2efbb6aba"


def test_plan_is_deterministic_and_seed_dependent():
    a, b = demo.build_plan(), demo.build_plan()
    assert demo.sample_digest(a.subjects) == demo.sample_digest(b.subjects)
    assert a.officers == b.officers
    assert demo.sample_digest(a.subjects[:20]) == DIGEST_FIRST_20
    assert demo.sample_digest(demo.build_plan(7).subjects[:20]) != DIGEST_FIRST_20


def test_uscc_check_character():
    assert demo.uscc_is_valid("914403001922038216")  # a real code
    assert not demo.uscc_is_valid("914403001922038217")
    import random

    rng = random.Random(1)
    assert all(demo.uscc_is_valid(demo.uscc("92", rng)) for _ in range(200))


def test_load_demo_builds_the_district(demo_district):
    assert "演示数据已加载" in demo_district.output

    # --- Area tree -----------------------------------------------------------------------------
    kinds = Counter(Area.objects.values_list("kind", flat=True))
    assert kinds[AreaKind.DISTRICT] == 1
    assert kinds[AreaKind.STREET] >= 4
    assert kinds[AreaKind.GRID] >= 150 and kinds[AreaKind.MICRO_GRID] >= 400
    district = Area.objects.get(kind=AreaKind.DISTRICT)
    assert district.name == "拱墅区" and district.path == f"/{district.pk}/"
    assert set(Area.objects.filter(kind=AreaKind.STREET).values_list("tier", flat=True)) == {"general", "central", "urban"}
    areas = {a.pk: a for a in Area.objects.all()}
    for a in areas.values():
        parent = areas.get(a.parent_id)
        assert a.path == (parent.path if parent else "/") + f"{a.pk}/", a.code
        assert a.min_lat < a.max_lat and a.min_lng < a.max_lng
    # 5 zones in 青山湖 partition its grids.
    qsh = Area.objects.get(kind=AreaKind.STREET, name="青山湖街道")
    zones = list(Area.objects.filter(kind=AreaKind.ZONE))
    assert len(zones) == 5 and all(z.parent_id == qsh.pk for z in zones)
    qsh_grids = Area.objects.filter(kind=AreaKind.GRID, path__startswith=qsh.path)
    assert not qsh_grids.filter(zone__isnull=True).exists()
    assert sum(z.zone_grids.count() for z in zones) == qsh_grids.count() >= 5
    assert not Area.objects.filter(kind=AreaKind.GRID, zone__isnull=False).exclude(path__startswith=qsh.path).exists()

    # --- Categories and subjects ---------------------------------------------------------------
    assert SubjectCategory.objects.filter(parent__isnull=True).count() == 17
    assert SubjectCategory.objects.filter(parent__isnull=False).count() == 57
    assert Subject.objects.count() >= 1589
    gcq = Area.objects.get(kind=AreaKind.STREET, name="拱宸桥街道")
    gcq_subjects = Subject.objects.filter(grid__path__startswith=gcq.path)
    assert gcq_subjects.count() == 1589
    assert gcq_subjects.values("category").distinct().count() == 57
    assert gcq_subjects.values("category__parent").distinct().count() == 17
    dx = Area.objects.get(kind=AreaKind.STREET, name="东新街道")
    assert Subject.objects.filter(grid__path__startswith=dx.path, category__parent__code="JS").count() >= 62
    grid_geoms = {pk: shape(a.boundary) for pk, a in areas.items() if a.kind == AreaKind.GRID}
    rows = list(Subject.objects.values_list("grid_id", "lat", "lng", "licence_no", "contact_phone", "name", "address"))
    for grid_id, lat, lng, licence, phone, name, address in rows:
        assert areas[grid_id].kind == AreaKind.GRID
        assert contains_xy(grid_geoms[grid_id], lng, lat), name
        assert len(phone) == 11 and phone.isdigit() and phone[0] == "1"
        assert name and address.startswith("拱墅区")
        if licence:
            assert demo.uscc_is_valid(licence), licence
    licences = [r[3] for r in rows if r[3]]
    assert len(licences) == len(set(licences)) and len(licences) > 0.8 * len(rows)
    statuses = Counter(Subject.objects.values_list("status", flat=True))
    assert statuses[SubjectStatus.CLOSED] > 0 and statuses[SubjectStatus.ACTIVE] > 0.9 * len(rows)
    assert Subject.objects.filter(tags__name="重点监管").exists() and Subject.objects.filter(tags__name="夜间经营").exists()
    first = list(Subject.objects.order_by("id").values("name", "licence_no", "lat", "lng")[:20])
    assert demo.sample_digest(first) == DIGEST_FIRST_20  # what was written is the plan

    # --- Departments, teams, officers ----------------------------------------------------------
    assert set(Department.objects.values_list("code", flat=True)) >= {"ZHZF", "SCJG", "STHJ", "ZRZY", "YJGL", "JT", "WJ", "WHSC", "NY", "XF", "GA", "JJ", "ZJ"}
    assert Team.objects.count() == kinds[AreaKind.STREET]
    qsh_team = Team.objects.get(street=qsh)
    assert qsh_team.code == f"TEAM-{qsh.code}" and qsh_team.name == "青山湖街道综合行政执法队"
    qsh_officers = Officer.objects.filter(team=qsh_team)
    assert qsh_officers.count() == 38
    assert qsh_officers.values("home_department").distinct().count() == 7
    ranks = Counter(qsh_officers.values_list("rank", flat=True))
    assert ranks[Rank.CAPTAIN] == 1 and ranks[Rank.DEPUTY_CAPTAIN] == 7 and ranks[Rank.SQUAD_LEADER] >= 2
    assert Officer.objects.values("home_department").distinct().count() >= 7
    for team in Team.objects.annotate(n=Count("officers"), d=Count("officers__home_department", distinct=True)):
        assert 20 <= team.n <= 40 and team.d >= 7, team.name
    assert Officer.objects.filter(seconded=True).exists() and Officer.objects.filter(seconded=False).exists()
    assert Officer.objects.filter(duty_status=DutyStatus.AVAILABLE).count() > Officer.objects.count() / 2
    street_geoms = {pk: shape(a.boundary) for pk, a in areas.items() if a.kind == AreaKind.STREET}
    for o in Officer.objects.select_related("team", "user"):
        assert contains_xy(street_geoms[o.team.street_id], o.last_lng, o.last_lat)
        assert o.last_position_at is not None and o.skill_departments.filter(pk=o.home_department_id).exists()
        assert AreaMembership.objects.filter(user=o.user, area_id=o.team.street_id).exists()
        assert o.user.groups.filter(name="officer").exists()
    assert OfficerPosition.objects.count() == Officer.objects.count()

    # --- Demo users: one per role, bound to areas, can log in ----------------------------------
    User = get_user_model()
    demo_users = {u.username: u for u in User.objects.filter(username__in=demo.DEMO_USERNAMES)}
    assert set(demo_users) == set(demo.DEMO_USERNAMES)
    assert {g for u in demo_users.values() for g in u.groups.values_list("name", flat=True)} == set(ALL_ROLES)
    assert list(demo_users["leader_qsh"].area_memberships.values_list("area__name", flat=True)) == ["青山湖街道"]
    assert list(demo_users["dispatcher"].area_memberships.values_list("area_id", flat=True)) == [district.pk]
    assert Officer.objects.get(user=demo_users["officer_demo"]).team == qsh_team
    bureau = demo_users["bureau"]
    assert bureau.is_staff and not bureau.is_superuser
    assert bureau.has_perm("grids.change_subject") and bureau.has_perm("grids.view_area")
    for username in ("dispatcher", "leader_qsh"):
        assert Client().login(username=username, password=demo.DEMO_PASSWORD), username
    assert User.objects.get(username="officer_001_001").password == demo_users["dispatcher"].password
    client = Client()
    assert client.login(username="bureau", password=demo.DEMO_PASSWORD)
    assert client.get("/admin/grids/subject/").status_code == 200
    assert AuditLog.objects.filter(action="demo.loaded").count() == 1

    # --- Re-running ------------------------------------------------------------------------------
    n_subjects, n_areas = Subject.objects.count(), Area.objects.count()
    out = StringIO()
    call_command("load_demo", "--if-empty", stdout=out)
    assert "跳过" in out.getvalue()
    with pytest.raises(CommandError, match="已存在"):
        call_command("load_demo", stdout=StringIO())
    assert (Subject.objects.count(), Area.objects.count()) == (n_subjects, n_areas)

    out = StringIO()
    call_command("demo_logins", "--base-url", "http://example.test:8000", stdout=out)
    text = out.getvalue()
    for username in demo.DEMO_USERNAMES:
        assert username in text
    assert demo.DEMO_PASSWORD in text and "http://example.test:8000/map/" in text


def test_demo_seen_through_the_api(demo_district):
    """The pages `make run` points at work on the demo data, scoped by the user's areas."""
    qsh = Area.objects.get(kind=AreaKind.STREET, name="青山湖街道")
    dispatcher, leader = Client(), Client()
    assert dispatcher.login(username="dispatcher", password=demo.DEMO_PASSWORD)
    assert leader.login(username="leader_qsh", password=demo.DEMO_PASSWORD)
    assert dispatcher.get("/map/").status_code == 200
    resp = dispatcher.get("/api/v1/subjects/", {"page_size": 1})
    assert resp.status_code == 200 and resp.json()["count"] == Subject.objects.count() >= 1589
    resp = leader.get("/api/v1/subjects/", {"page_size": 1})
    assert resp.status_code == 200
    assert resp.json()["count"] == Subject.objects.filter(grid__path__startswith=qsh.path).count() > 0
    resp = leader.get("/api/v1/officers/", {"page_size": 1})
    assert resp.status_code == 200 and resp.json()["count"] == 38


@pytest.mark.django_db
def test_demo_logins_without_demo_data():
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert "load_demo" in out.getvalue()
