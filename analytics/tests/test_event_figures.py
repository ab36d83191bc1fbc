"""Event figures against values computed by hand on small fixed data (Asia/Shanghai days)."""
import pytest

from analytics import params
from analytics.selectors.events import event_figures
from analytics.testing import at, meet

pytestmark = pytest.mark.django_db

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def november(event_at):
    """e1 quick and on time; e2 reported 30 s before midnight, signed for exactly at its 60 s due time, handled
    late; e3 reported at 00:30 local (still the 10th in UTC); e4 one second before the period; e5 the period's
    last second, from the 12345 hotline."""
    e1 = event_at(at(2026, 11, 10, 10, 0), accepted=30, arrived=240, resolved=600, satisfaction=5)
    meet(e1, "respond", after_s=30)
    meet(e1, "set_out", after_s=30)
    meet(e1, "handle", after_s=600)
    e2 = event_at(at(2026, 11, 10, 23, 59, 30), accepted=60, resolved=1200, satisfaction=3)
    meet(e2, "respond", after_s=60)  # met exactly at the due time: on time
    meet(e2, "handle", after_s=1200, late=True)
    e3 = event_at(at(2026, 11, 11, 0, 30))
    e4 = event_at(at(2026, 10, 31, 23, 59, 59), accepted=10)
    e5 = event_at(at(2026, 11, 30, 23, 59, 59), source="hotline_12345")
    return {"e1": e1, "e2": e2, "e3": e3, "e4": e4, "e5": e5}


def figures(user, **query):
    return event_figures(user, params.parse(user, {**NOVEMBER, **query}))


def test_the_whole_period_by_hand(users, november):
    [row] = figures(users["dispatcher"])
    assert row["key"] is None
    assert row["received"] == 4  # e4 is the day before
    assert row["by_source"] == {"citizen": 3, "hotline_12345": 1}
    assert row["resolved"] == 2
    assert row["on_time_closure_rate"] == 50.0  # e2's handling breached
    assert row["satisfaction_avg"] == 4.0 and row["satisfaction_good_rate"] == 50.0
    assert row["front_line_rate"] == 100.0 and row["escalations"] == 0
    assert row["stages"] == {
        "respond": {"decided": 2, "on_time": 2, "on_time_rate": 100.0},  # e2 at exactly its due time counts
        "set_out": {"decided": 1, "on_time": 1, "on_time_rate": 100.0},
        "handle": {"decided": 2, "on_time": 1, "on_time_rate": 50.0},
    }
    # response 30 s and 60 s: median 45, p90 30 + 0.9 × 30; handling 600 and 1200 s
    assert (row["response_median_s"], row["response_p90_s"]) == (45.0, 57.0)
    assert (row["arrival_median_s"], row["arrival_p90_s"]) == (240.0, 240.0)
    assert (row["handling_median_s"], row["handling_p90_s"]) == (900.0, 1140.0)


def test_days_are_local_days(users, november):
    rows = {r["key"]: r["received"] for r in figures(users["dispatcher"], group_by="day")}
    # e2 at 23:59:30 stays on the 10th; e3 at 00:30 local is the 11th (16:30 UTC on the 10th); e5 the 30th
    assert rows == {"2026-11-10": 2, "2026-11-11": 1, "2026-11-30": 1}


def test_grouped_by_source_and_street(users, district, november):
    by_source = {r["key"]: r for r in figures(users["dispatcher"], group_by="source")}
    assert {k: r["received"] for k, r in by_source.items()} == {"citizen": 3, "hotline_12345": 1}
    assert by_source["citizen"]["resolved"] == 2 and by_source["hotline_12345"]["resolved"] == 0
    [street] = figures(users["dispatcher"], group_by="street")
    assert street["key"] == str(district["S1"].pk) and street["label"] == district["S1"].name


def test_an_empty_period_and_an_area_with_no_events(users, district, november):
    [row] = event_figures(users["dispatcher"], params.parse(users["dispatcher"], {"from": "2025-01-01", "to": "2025-01-31"}))
    assert row["received"] == 0 and row["resolved"] == 0
    assert row["on_time_closure_rate"] is None and row["satisfaction_avg"] is None  # nothing to divide: no figure
    assert row["stages"] == {} and row["response_median_s"] is None
    [row] = figures(users["dispatcher"], area="S2")
    assert row["received"] == 0
    assert figures(users["dispatcher"], area="S2", group_by="day") == []


def test_a_street_leader_sees_only_the_street(users, november, event_at):
    event_at(at(2026, 11, 12, 9, 0), point=(30.2, 121.2))  # in S2
    assert figures(users["dispatcher"])[0]["received"] == 5
    assert figures(users["leader_s1"])[0]["received"] == 4
    assert figures(users["leader_s2"])[0]["received"] == 1


def test_complaints_about_subjects_before_and_after_by_hand(event_at, users, district, categories):
    """Complaints: citizen or 12345 reports about a subject. November (30 days) against 2–31 October; one
    at 23:59:30 on 31 October (Shanghai) is October's, one at 00:00 on 1 November is November's."""
    from command_center.models import Event
    from credit.testing import build_subjects

    shop = build_subjects(district, categories)["s1"]

    def complaint(when, source="citizen", subject=shop):
        e = event_at(when, source=source)
        Event.objects.filter(pk=e.pk).update(subject=subject)

    for when in (at(2026, 11, 1, 0, 0, 0), at(2026, 11, 15, 9)):
        complaint(when)
    complaint(at(2026, 11, 20, 9), source="hotline_12345")
    complaint(at(2026, 11, 21, 9), source="sensor")  # not a complaint: a sensor's
    complaint(at(2026, 11, 22, 9), subject=None)  # not about a subject
    for when in (at(2026, 10, 2, 9), at(2026, 10, 10, 9), at(2026, 10, 25, 9), at(2026, 10, 31, 23, 59, 30)):
        complaint(when)
    complaint(at(2026, 10, 20, 9), source="hotline_12345")
    complaint(at(2026, 10, 1, 12))  # before the 30 days before November
    period = params.parse(users["dispatcher"], NOVEMBER)
    [row] = event_figures(users["dispatcher"], period)
    assert (row["complaints"], row["complaints_before"], row["complaints_change_percent"]) == (3, 5, -40.0)
    [s1] = event_figures(users["dispatcher"], params.parse(users["dispatcher"], {**NOVEMBER, "group_by": "street"}))
    assert (s1["label"], s1["complaints"], s1["complaints_before"]) == ("街道1", 3, 5)
    days = event_figures(users["dispatcher"], params.parse(users["dispatcher"], {**NOVEMBER, "group_by": "day"}))
    assert {d["key"]: d["complaints"] for d in days if d["complaints"]} == {"2026-11-01": 1, "2026-11-15": 1, "2026-11-20": 1}
    assert all(d["complaints_before"] is None and d["complaints_change_percent"] is None for d in days)
    # No complaints before: no change to speak of (not +∞ %).
    [empty] = event_figures(users["dispatcher"], params.parse(users["dispatcher"], {"from": "2026-09-01", "to": "2026-09-30"}))
    assert (empty["complaints"], empty["complaints_before"], empty["complaints_change_percent"]) == (0, 0, None)


def test_month_end_in_shanghai_not_utc(event_at, users):
    """23:59:59 on 30 November and 00:00:00 on 1 December in Shanghai are both 30 November in UTC: November's
    last event and December's first, by month and by day."""
    event_at(at(2026, 11, 30, 23, 59, 59))
    event_at(at(2026, 12, 1, 0, 0, 0))
    query = {"from": "2026-11-01", "to": "2026-12-31"}
    months = event_figures(users["dispatcher"], params.parse(users["dispatcher"], {**query, "group_by": "month"}))
    assert {r["key"]: r["received"] for r in months} == {"2026-11-01": 1, "2026-12-01": 1}
    days = event_figures(users["dispatcher"], params.parse(users["dispatcher"], {**query, "group_by": "day"}))
    assert {r["key"]: r["received"] for r in days} == {"2026-11-30": 1, "2026-12-01": 1}
    [november] = event_figures(users["dispatcher"], params.parse(users["dispatcher"], NOVEMBER))
    assert november["received"] == 1
