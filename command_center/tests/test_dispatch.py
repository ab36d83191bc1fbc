"""Dispatch ranking: who qualifies for an event, in what order, and why."""
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center import dispatch, services
from command_center.tests.conftest import S1_POINT, S2_POINT
from grids import accounts
from grids.models import Officer

pytestmark = pytest.mark.django_db

M_PER_DEG_LAT = 111_195


@pytest.fixture
def crew(users, officers, teams, departments):
    """Officers of S1 placed north of S1_POINT at the given distances (metres)."""
    now = timezone.now()

    def add(name, *, metres=None, duty="available", dept="ZHZF", rank=1, team="S1", skills=(), stale=False):
        u = accounts.add_user(None, username=f"u-{name}", role="officer", area_codes=[team])[0]
        o = Officer.objects.create(
            user=u, name=name, badge_no=f"B-{name}", team=teams[team], home_department=departments[dept], rank=rank,
            duty_status=duty,
            last_lat=None if metres is None else S1_POINT[0] + metres / M_PER_DEG_LAT,
            last_lng=None if metres is None else S1_POINT[1],
            last_position_at=None if metres is None else now - timedelta(minutes=30 if stale else 1),
        )
        o.skill_departments.set([departments[d] for d in skills])
        return o

    return {
        "near": add("近", metres=100),
        "far": add("远", metres=1000),
        "skilled": add("市监兼", metres=500, dept="SCJG", skills=["ZHZF"]),
        "busy": add("忙", metres=50, duty="busy"),
        "off": add("下班", metres=10, duty="off_duty"),
        "stale": add("旧定位", metres=20, stale=True),
        "nopos": add("无定位"),
        "unskilled": add("市监", metres=30, dept="SCJG"),
        "captain": add("队长", metres=2000, rank=4),
    }


def names(ranked, eligible=True):
    return [c.name for c in ranked if c.eligible is eligible]


def test_order_and_reasons(report, crew, users, officers):
    e = report()  # yellow street vending, delegated to S1: the ZHZF matter
    busy_event = report(point=(30.6, 120.2))
    services.dispatch(users["dispatcher"], busy_event, crew["busy"])
    ranked = dispatch.rank(e)
    assert names(ranked) == ["近", "市监兼", "远", "队长", "忙"]
    assert [c.place for c in ranked if c.eligible] == [1, 2, 3, 4, 5]
    first = ranked[0]
    assert first.distance_m == pytest.approx(100, abs=2) and first.load == 0
    assert "距离 100 米" in first.reasons and "派出部门可办理该事项" in first.reasons
    assert next(c for c in ranked if c.name == "市监兼").reasons[2] == "具备该事项办理资格"
    assert next(c for c in ranked if c.name == "忙").load == 1
    why_not = {c.name: c.reasons for c in ranked if not c.eligible}
    assert why_not["下班"] == ["下班"]
    assert why_not["旧定位"] == ["定位已 30 分钟未更新"]
    assert why_not["无定位"] == ["无定位"]
    assert why_not["市监"] == ["不具备该事项的办理资格"]
    assert set(why_not) == {"下班", "旧定位", "无定位", "市监", "张三"}  # 张三 is off duty, no position
    assert all(c.place is None for c in ranked if not c.eligible)
    assert dispatch.best(e).name == "近"


def test_rank_minimum_and_never_twice(report, crew, users):
    red = report(severity="red")  # needs rank 3 (deputy captain) by default
    assert names(dispatch.rank(red)) == ["队长"]
    assert "职级“队员”低于要求的“副队长”" in next(c for c in dispatch.rank(red) if c.name == "近").reasons
    e = report(point=(30.7, 120.2))
    services.dispatch(users["dispatcher"], e, crew["near"])
    services.decline(crew["near"].user, e, "车辆故障")
    ranked = dispatch.rank(e)
    assert "近" not in names(ranked)
    assert "已处理过此事件" in next(c for c in ranked if c.name == "近").reasons


def test_least_loaded_first_when_nobody_is_available(report, crew, users):
    Officer.objects.filter(duty_status="available").update(duty_status="busy")
    e = report()
    services.dispatch(users["dispatcher"], report(point=(30.6, 120.2)), crew["near"])
    ranked = names(dispatch.rank(e))
    assert ranked[-1] == "近" and ranked[0] == "忙"  # "忙" is closer than the others and has no task


def test_matter_the_street_does_not_hold_goes_to_department_officers(report, crew, officers):
    e = report(point=S2_POINT)  # S2 holds no delegation: ZHZF's own officers, wherever their team is
    ranked = dispatch.rank(e)
    assert {"近", "远", "队长", "忙"} <= set(names(ranked))
    assert "李四" in names(ranked, eligible=False)  # S2 team, SCJG, no skills


def test_candidates_api(api, users, report, crew, django_assert_max_num_queries):
    e = report()
    url = f"/api/v1/events/{e.pk}/candidates/"
    with django_assert_max_num_queries(10):
        r = api(users["dispatcher"]).get(url)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["event"] == e.pk and body["min_rank"] == 1
    assert body["candidates"][0]["name"] == "近" and body["candidates"][0]["place"] == 1
    assert api(users["leader_s1"]).get(url).status_code == 200
    assert api(users["officer_s1"]).get(url).status_code == 403
    assert api(users["platform"]).get(url).status_code == 403
    assert api(users["leader_s2"]).get(url).status_code == 404
