"""The in-memory spatial index on its own (no shared district: some tests need an empty registry)."""
import pytest

from grids.testing import square
from grids import selectors, spatial
from grids.spatial import AreaIndex


def rows():
    # (id, code, name, kind, parent_id, boundary)
    return [
        (1, "D", "区", "district", None, square(0, 0, 10, 10)),
        (2, "S", "街", "street", 1, square(0, 0, 5, 10)),
        (3, "C", "社", "community", 2, square(0, 0, 5, 10)),
        (4, "G", "格", "grid", 3, square(0, 0, 5, 5)),
        (5, "M", "微", "micro_grid", 4, square(0, 0, 2, 2)),
        (6, "Z", "防区", "zone", 2, square(0, 0, 10, 10)),  # zones are not in the chain
        (7, "N", "无边界", "grid", 3, None),
    ]


def test_chain_smallest_first_and_zones_ignored():
    index = AreaIndex(rows())
    assert [r.code for r in index.chain(lat=1, lng=1)] == ["M", "G", "C", "S", "D"]
    assert [r.code for r in index.chain(lat=4, lng=4)] == ["G", "C", "S", "D"]
    assert [r.code for r in index.chain(lat=8, lng=4)] == ["C", "S", "D"]
    assert [r.code for r in index.chain(lat=8, lng=8)] == ["D"]
    assert index.chain(lat=20, lng=20) == []
    assert index.smallest_containing(lat=-1, lng=-1) is None


def test_as_dict_and_street_of():
    index = AreaIndex(rows())
    ref = index.smallest_containing(lat=1, lng=1)
    assert ref.as_dict() == {"id": 5, "code": "M", "name": "微", "kind": "micro_grid"}
    assert index.street_of(ref).code == "S"
    assert index.street_of(index.smallest_containing(lat=8, lng=8)) is None


def test_empty_index():
    index = AreaIndex([])
    assert index.chain(lat=1, lng=1) == []


@pytest.mark.django_db
def test_no_areas_at_all_is_404(django_user_model, api):
    user = django_user_model.objects.create_user("lonely")
    r = api(user).get("/api/v1/grids/locate/", {"lat": 30.2, "lng": 120.2})
    assert r.status_code == 404 and r.json()["code"] == "outside_district"
    assert selectors.grid_at(30.2, 120.2) is None


@pytest.mark.django_db
def test_counter_bumped_in_python_where_the_database_has_no_triggers(monkeypatch):
    from grids.models import AreaIndexVersion

    monkeypatch.setattr(spatial, "TRIGGER_VENDORS", ())
    AreaIndexVersion.objects.all().delete()  # e.g. after a test flush
    spatial.note_change()
    assert AreaIndexVersion.objects.get(pk=1).n == 1
    spatial.note_change()
    assert AreaIndexVersion.objects.get(pk=1).n == 2


@pytest.mark.django_db
def test_triggers_bump_on_insert_update_delete():
    from grids.models import Area, AreaIndexVersion

    def version():
        return AreaIndexVersion.objects.get(pk=1).n

    v0 = version()
    Area.objects.bulk_create([Area(code="X1", name="x", kind="district", path="/x/")])
    v1 = version()
    Area.objects.filter(code="X1").update(name="y")
    v2 = version()
    Area.objects.filter(code="X1").update(min_lat=1.0)  # not an indexed column
    v3 = version()
    Area.objects.filter(code="X1")._raw_delete("default")
    assert v0 < v1 < v2 == v3 < version()
