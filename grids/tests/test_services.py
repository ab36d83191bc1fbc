"""grids.services and grids.accounts: area validation, paths, subject rules, accounts, audit."""
import pytest

from grids.testing import square
from core.exceptions import Forbidden, ValidationFailed
from core.models import AuditLog
from grids import accounts, selectors, services
from grids.models import Area, AreaMembership, Subject

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db


def fields_of(excinfo):
    return set(excinfo.value.fields)


# --- Area validation --------------------------------------------------------------------------

def test_unclosed_ring_refused(district):
    ring = [[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.1], [120.0, 30.05]]
    with pytest.raises(ValidationFailed) as e:
        services.create_area(None, code="X", name="x", kind="micro_grid", parent=district["S1G1"],
                             boundary={"type": "Polygon", "coordinates": [ring]})
    assert "未闭合" in e.value.fields["boundary"][0]


def test_self_intersecting_bow_tie_refused(district):
    bow_tie = [[120.0, 30.0], [120.1, 30.1], [120.1, 30.0], [120.0, 30.1], [120.0, 30.0]]
    with pytest.raises(ValidationFailed) as e:
        services.create_area(None, code="X", name="x", kind="micro_grid", parent=district["S1G1"],
                             boundary={"type": "Polygon", "coordinates": [bow_tie]})
    assert "自相交" in e.value.fields["boundary"][0]


@pytest.mark.parametrize("boundary,fragment", [
    ({"type": "Point", "coordinates": [120, 30]}, "Polygon"),
    ("not json", "Polygon"),
    ({"type": "Polygon"}, "缺少坐标"),
    ({"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120, 30]]]}, "至少需要4个点"),
    ({"type": "Polygon", "coordinates": [[[120, 30], [120.1, "a"], [120.1, 30.1], [120, 30]]]}, "数值"),
    ({"type": "Polygon", "coordinates": [[[120, 30], [190, 30], [190, 31], [120, 30]]]}, "超出"),
    ({"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120.2, 30], [120, 30]]]}, "面积为零"),
    ({"type": "MultiPolygon", "coordinates": [[]]}, "坐标环"),
])
def test_malformed_boundaries_refused(district, boundary, fragment):
    with pytest.raises(ValidationFailed) as e:
        services.create_area(None, code="X", name="x", kind="micro_grid", parent=district["S1G1"], boundary=boundary)
    assert fragment in e.value.fields["boundary"][0]


def test_multipolygon_accepted(district):
    multi = {"type": "MultiPolygon", "coordinates": [square(120.0, 30.0, 120.1, 30.1)["coordinates"],
                                                     square(120.2, 30.2, 120.3, 30.3)["coordinates"]]}
    area = services.create_area(None, code="X", name="x", kind="micro_grid", parent=district["S1G1"], boundary=multi)
    assert (area.min_lng, area.min_lat, area.max_lng, area.max_lat) == (120.0, 30.0, 120.3, 30.3)


@pytest.mark.parametrize("kind,parent_key", [
    ("street", None), ("street", "S1"), ("community", "district"), ("grid", "S1"), ("micro_grid", "S1C1"),
    ("zone", "S1C1"), ("district", "S1"), ("grid", "S1G1"),
])
def test_wrong_parent_kind_refused(district, kind, parent_key):
    parent = district[parent_key] if parent_key else None
    with pytest.raises(ValidationFailed) as e:
        services.create_area(None, code="X", name="x", kind=kind, parent=parent)
    assert fields_of(e) == {"parent"}


def test_unknown_kind_refused(district):
    with pytest.raises(ValidationFailed) as e:
        services.create_area(None, code="X", name="x", kind="planet", parent=district["S1"])
    assert fields_of(e) == {"kind"}


def test_child_outside_parent_beyond_tolerance_refused(district, settings):
    settings.AREA_CONTAINMENT_TOLERANCE = 0.01
    grid = district["S1G1"]  # 120.0–120.5 × 30.0–31.0
    # 0.5 % outside: accepted as digitising noise.
    services.create_area(None, code="OK", name="ok", kind="micro_grid", parent=grid,
                         boundary=square(119.9995, 30.0, 120.0995, 30.1))
    # 20 % outside: refused, with the share in the message.
    with pytest.raises(ValidationFailed) as e:
        services.create_area(None, code="X", name="x", kind="micro_grid", parent=grid,
                             boundary=square(119.98, 30.0, 120.08, 30.1))
    assert "20.0%" in e.value.fields["boundary"][0]


def test_zone_must_lie_inside_its_street(district):
    with pytest.raises(ValidationFailed) as e:
        services.create_area(None, code="Z", name="z", kind="zone", parent=district["S1"],
                             boundary=square(120.5, 30.0, 121.5, 31.0))
    assert fields_of(e) == {"boundary"}


def test_tier_only_on_streets_and_known(district):
    with pytest.raises(ValidationFailed) as e:
        services.create_area(None, code="X", name="x", kind="community", parent=district["S1"], tier="urban")
    assert fields_of(e) == {"tier"}
    with pytest.raises(ValidationFailed) as e:
        services.update_area(None, district["S1"], tier="megacity")
    assert fields_of(e) == {"tier"}
    assert services.update_area(None, district["S1"], tier="central").tier == "central"
    assert services.update_area(None, district["S1"], tier="").tier == ""


def test_zone_rules(district):
    zone = services.create_area(None, code="S1Z1", name="防区", kind="zone", parent=district["S1"],
                                boundary=square(120.0, 30.0, 120.5, 31.0))
    # Only grids join zones …
    with pytest.raises(ValidationFailed) as e:
        services.update_area(None, district["S1C1"], zone=zone)
    assert fields_of(e) == {"zone"}
    with pytest.raises(ValidationFailed) as e:
        services.update_area(None, district["S1G1M1"], zone=zone)
    assert fields_of(e) == {"zone"}
    # … only zones are zones …
    with pytest.raises(ValidationFailed) as e:
        services.update_area(None, district["S1G1"], zone=district["S1G2"])
    assert fields_of(e) == {"zone"}
    # … and only zones of the grid's own street.
    with pytest.raises(ValidationFailed) as e:
        services.update_area(None, district["S2G1"], zone=zone)
    assert fields_of(e) == {"zone"}
    assert services.update_area(None, district["S1G1"], zone=zone).zone == zone


@pytest.mark.parametrize("code,name,field", [("", "x", "code"), ("X", " ", "name"), ("X" * 33, "x", "code"),
                                             ("X", "x" * 101, "name"), ("S1", "dup", "code")])
def test_code_and_name_checked(district, code, name, field):
    with pytest.raises(ValidationFailed) as e:
        services.create_area(None, code=code, name=name, kind="grid", parent=district["S1C1"])
    assert fields_of(e) == {field}


def test_update_takes_only_area_fields_and_refuses_duplicate_codes(district):
    with pytest.raises(TypeError):  # the path follows the parent: it is no field a caller sets
        services.update_area(None, district["S1"], path="/hack/")
    with pytest.raises(ValidationFailed) as e:
        services.update_area(None, district["S1"], code="S2")
    assert fields_of(e) == {"code"}


def test_parent_cannot_be_self_or_descendant(district):
    s1c1 = services.create_area(None, code="S1C2", name="社区1-2", kind="community", parent=district["S1"])
    with pytest.raises(ValidationFailed) as e:
        services.update_area(None, district["S1G1"], parent=district["S1G1"])
    assert fields_of(e) == {"parent"}
    with pytest.raises(ValidationFailed):
        services.update_area(None, s1c1, kind="grid", parent=s1c1)


def test_shrinking_a_parent_must_keep_its_children_inside(district):
    with pytest.raises(ValidationFailed) as e:
        services.update_area(None, district["S1G1"], boundary=square(120.0, 30.0, 120.5, 30.5))
    assert "S1G1M2" in e.value.fields["boundary"][0]


def test_kind_change_must_suit_the_children(district):
    with pytest.raises(ValidationFailed) as e:
        services.update_area(None, district["S1C1"], kind="zone")  # its grids need a community above them
    assert fields_of(e) == {"kind"}


def test_path_and_bbox_on_create(district):
    d, s1, c, g = (district[k] for k in ("district", "S1", "S1C1", "S1G1"))
    assert d.path == f"/{d.pk}/"
    assert g.path == f"/{d.pk}/{s1.pk}/{c.pk}/{g.pk}/"
    assert g.ancestor_ids == [d.pk, s1.pk, c.pk, g.pk]
    assert (g.min_lng, g.min_lat, g.max_lng, g.max_lat) == (120.0, 30.0, 120.5, 31.0)


def test_path_recomputed_for_the_moved_subtree(district):
    """Move grid S1G2 (with its micro-grids) from community S1C1 to a new community S1C2."""
    c2 = services.create_area(None, code="S1C2", name="社区1-2", kind="community", parent=district["S1"],
                              boundary=square(120.5, 30.0, 121.0, 31.0))
    moved = services.update_area(None, district["S1G2"], parent=c2)
    assert moved.path == f"{c2.path}{moved.pk}/"
    for code in ("S1G2M1", "S1G2M2"):
        assert Area.objects.get(code=code).path == f"{c2.path}{moved.pk}/{Area.objects.get(code=code).pk}/"
    # Scoping follows the new paths.
    assert {a.code for a in selectors.descendants(c2)} == {"S1C2", "S1G2", "S1G2M1", "S1G2M2"}
    assert "S1G2M1" not in {a.code for a in selectors.descendants(district["S1C1"])}
    log = AuditLog.objects.get(action="area.updated", object_id=str(moved.pk))
    assert log.changes == {"parent": [district["S1C1"].pk, c2.pk]}


def test_boundary_change_updates_bbox_and_audit(district):
    area = services.update_area(None, district["S1G1M1"], boundary=square(120.0, 30.0, 120.25, 30.5))
    assert (area.max_lng, area.max_lat) == (120.25, 30.5)
    log = AuditLog.objects.get(action="area.updated", object_id=str(area.pk))
    assert set(log.changes) == {"boundary"}


def test_update_without_changes_writes_no_audit(district):
    services.update_area(None, district["S1"], name=district["S1"].name)
    assert not AuditLog.objects.filter(action="area.updated").exists()


def test_create_records_every_field(district):
    log = AuditLog.objects.get(action="area.created", object_id=str(district["S1"].pk))
    assert log.actor is None and log.actor_label == "system"
    assert log.changes["code"] == [None, "S1"] and log.changes["tier"] == [None, "urban"]
    assert log.changes["parent"] == [None, district["district"].pk]


# --- Subjects ---------------------------------------------------------------------------------

def make(categories, **kw):
    data = {"name": "店", "category": categories["restaurant"], "lat": 30.2, "lng": 120.2, **kw}
    return services.insert_subject(None, **data)


def test_subject_grid_from_point_and_licence_normalised(district, categories):
    s = make(categories, licence_no="  L1  ", tags=["a", " a ", "", "b"])
    assert s.grid == district["S1G1"] and s.licence_no == "L1"
    assert sorted(s.tags.values_list("name", flat=True)) == ["a", "b"]
    blank = make(categories, licence_no="   ")
    assert blank.licence_no is None


def test_subject_requires_sub_category(categories, district):
    with pytest.raises(ValidationFailed) as e:
        make(categories, category=categories["food"])
    assert fields_of(e) == {"category"}


def test_subject_update_rules(categories, district):
    s = make(categories, licence_no="L1")
    make(categories, licence_no="L2", name="另一家")
    with pytest.raises(ValidationFailed) as e:
        services.rewrite_subject(None, s, licence_no="L2")
    assert fields_of(e) == {"licence_no"}
    with pytest.raises(ValidationFailed) as e:
        services.rewrite_subject(None, s, name="  ")
    assert fields_of(e) == {"name"}
    # Keeping one's own licence is not a clash; moving recomputes the grid.
    moved = services.rewrite_subject(None, s, licence_no="L1", lat=30.2, lng=121.7)
    assert moved.grid == district["S2G2"]
    # A grid given without a point keeps the point and must hold it.
    with pytest.raises(ValidationFailed) as e:
        services.rewrite_subject(None, moved, grid=district["S1G1"])
    assert fields_of(e) == {"grid"}
    # Tags: None leaves them, [] clears them.
    services.rewrite_subject(None, moved, tags=["x"])
    services.rewrite_subject(None, moved, name="新名")
    assert list(moved.tags.values_list("name", flat=True)) == ["x"]
    services.rewrite_subject(None, moved, tags=[])
    assert not moved.tags.exists()


def test_subject_permission_checks_in_the_service(users, categories, district):
    data = {"name": "店", "category": categories["restaurant"], "lat": 30.2, "lng": 121.2}
    with pytest.raises(Forbidden):
        services.create_subject(users["leader_s2"], **data)
    with pytest.raises(Forbidden):
        services.create_subject(users["bureau_s1"], **data)
    s = services.create_subject(users["bureau"], **data)
    with pytest.raises(Forbidden):
        services.update_subject(users["bureau_s1"], s, name="x")
    with pytest.raises(Forbidden):
        services.update_subject(None, s, name="x")  # no actor, no permission (only rewrite_subject skips the check)


# --- Accounts ---------------------------------------------------------------------------------

def test_add_user_creates_and_updates(district, django_user_model):
    user, created = accounts.add_user(None, username="zhang", role="team_leader", area_codes=["S1", "S2"],
                                      password="long-enough-1", display_name="张队")
    assert created and user.check_password("long-enough-1") and user.first_name == "张队"
    assert list(user.groups.values_list("name", flat=True)) == ["team_leader"]
    assert sorted(AreaMembership.objects.filter(user=user).values_list("area__code", flat=True)) == ["S1", "S2"]
    assert not user.is_staff

    user, created = accounts.add_user(None, username="zhang", role="bureau_staff", area_codes=["S2"])
    assert not created and user.is_staff
    assert user.check_password("long-enough-1")  # no --password: the old one stays
    assert list(user.groups.values_list("name", flat=True)) == ["bureau_staff"]
    assert list(AreaMembership.objects.filter(user=user).values_list("area__code", flat=True)) == ["S2"]
    log = AuditLog.objects.filter(action="user.updated", object_id=str(user.pk)).get()
    assert log.changes["role"] == [["team_leader"], ["bureau_staff"]]
    assert log.changes["areas"] == [["S1", "S2"], ["S2"]]
    assert "password" not in log.changes


def test_add_user_without_password_cannot_log_in(district):
    user, _ = accounts.add_user(None, username="script", role="api_client", area_codes=["D"])
    assert not user.has_usable_password()


@pytest.mark.parametrize("kwargs,field", [
    ({"role": "king"}, "role"), ({"area_codes": ["NOPE"]}, "area"), ({"area_codes": []}, "area"),
    ({"username": ""}, "username"), ({"password": "short"}, "password"),
])
def test_add_user_refusals(district, kwargs, field):
    args = {"username": "u", "role": "officer", "area_codes": ["S1"], **kwargs}
    with pytest.raises(ValidationFailed) as e:
        accounts.add_user(None, **args)
    assert field in e.value.fields


def test_add_user_keeps_superusers_staff(district, django_user_model):
    django_user_model.objects.create_superuser("root", password="long-enough-1")
    user, _ = accounts.add_user(None, username="root", role="dispatcher", area_codes=["D"])
    assert user.is_staff and user.is_superuser


def test_password_changes_are_audited_without_the_password(district):
    accounts.add_user(None, username="u", role="officer", area_codes=["S1"], password="first-pass-1")
    user, _ = accounts.add_user(None, username="u", role="officer", area_codes=["S1"], password="second-pass-2")
    log = AuditLog.objects.filter(action="user.updated", object_id=str(user.pk)).get()
    assert log.changes["password"] == ["***", "***(changed)"]
    assert "second-pass-2" not in str(AuditLog.objects.filter(object_id=str(user.pk)).values_list("changes"))


def test_subjects_in_area_for_every_kind(district, categories):
    a = make(categories, lat=30.2, lng=120.2)   # S1G1M1
    b = make(categories, lat=30.7, lng=120.2)   # S1G1M2
    c = make(categories, lat=30.7, lng=121.7)   # S2G2M2
    def ids(code):
        return set(Subject.objects.filter(selectors.subjects_in_area_q(Area.objects.get(code=code)))
                   .values_list("pk", flat=True))
    assert ids("D") == {a.pk, b.pk, c.pk}
    assert ids("S1") == ids("S1C1") == ids("S1G1") == {a.pk, b.pk}
    assert ids("S1G1M1") == {a.pk} and ids("S1G1M2") == {b.pk} and ids("S2G2M2") == {c.pk}
    assert ids("S2G1M1") == set()


# --- Who may write areas ----------------------------------------------------------------------

def test_area_writes_need_bureau_staff_covering_the_area(users, district):
    grid = {"code": "S2G9", "name": "x", "kind": "grid", "parent": district["S2C1"]}
    with pytest.raises(Forbidden):
        services.create_area(users["leader_s2"], **grid)
    with pytest.raises(Forbidden):
        services.create_area(users["bureau_s1"], **grid)
    with pytest.raises(Forbidden):
        services.create_area(users["bureau_s1"], code="S9", name="x", kind="street", parent=district["district"])
    with pytest.raises(Forbidden):
        services.create_area(users["bureau_s1"], code="D2", name="x", kind="district")
    with pytest.raises(Forbidden):
        services.update_area(users["bureau_s1"], district["S2G1"], name="x")
    with pytest.raises(Forbidden):  # nor move their own grid into the other street
        services.update_area(users["bureau_s1"], district["S1G1"], parent=district["S2C1"])
    assert services.create_area(users["bureau"], **grid).code == "S2G9"
    assert services.update_area(users["bureau_s1"], district["S1G1"], name="新").name == "新"
    log = AuditLog.objects.get(action="area.updated")
    assert log.actor == users["bureau_s1"]
