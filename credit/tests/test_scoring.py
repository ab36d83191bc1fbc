"""The pure computation: each factor, decay, thresholds, sensor rules (no database)."""
from datetime import datetime, timedelta, timezone as dt_tz

import pytest

from credit.choices import FactKind
from credit.models import default_base_points, default_sensor_rules, default_weights
from credit.scoring import PolicyParams, compute

NOW = datetime(2026, 6, 30, 4, 0, tzinfo=dt_tz.utc)  # 12:00 in Asia/Shanghai


def policy(**kw):
    values = dict(id=1, version=1, category_id=None, window_days=365, half_life_days=None, yellow_from=14,
                  red_from=28, base_points=default_base_points(), weights=default_weights(), lenient_multiplier=0.3,
                  complaint_confirmed_weight=1.0, complaint_unconfirmed_weight=0.3,
                  sensor_rules=tuple(default_sensor_rules()))
    values.update(kw)
    return PolicyParams(**values)


_ids = iter(range(1, 10**6))


def fact(kind, *, days_ago=1.0, points=None, confirmed=False, leniency="", metric="", value=None, at=None):
    i = next(_ids)
    return (i, 7, kind, points, confirmed, leniency, metric, value, (at or NOW - timedelta(days=days_ago)).timestamp())


def test_no_history_is_green():
    score, color, reasons = compute([], policy(), NOW)
    assert (score, color, reasons["factors"], reasons["sensor_rules"]) == (0, "green", [], [])


def test_inspection_findings_use_posted_points_times_weight():
    facts = [fact(FactKind.INSPECTION_FINDING, points=5), fact(FactKind.INSPECTION_FINDING, points=4)]
    score, color, reasons = compute(facts, policy(weights={**default_weights(), "inspection_finding": 2}), NOW)
    assert score == 18 and color == "yellow"
    (f,) = reasons["factors"]
    assert f["factor"] == "inspection_finding" and f["points"] == 18 and f["count"] == 2
    assert [x["contribution"] for x in f["facts"]] == [10, 8]
    assert [x["id"] for x in f["facts"]] == [facts[0][0], facts[1][0]]


@pytest.mark.parametrize("kind,expected", [
    (FactKind.RECTIFICATION_OPEN, 3), (FactKind.RECTIFICATION_OVERDUE, 7), (FactKind.RECTIFICATION_LATE, 4),
    (FactKind.VIOLATION, 10),
])
def test_default_points_per_kind(kind, expected):
    score, _, reasons = compute([fact(kind)], policy(), NOW)
    assert score == expected and reasons["factors"][0]["factor"] == kind


def test_complaints_confirmed_count_more_than_unconfirmed():
    score_c, _, _ = compute([fact(FactKind.COMPLAINT, confirmed=True)], policy(), NOW)
    score_u, _, reasons = compute([fact(FactKind.COMPLAINT, confirmed=False)], policy(), NOW)
    assert (score_c, score_u) == (3, 0.9)
    assert reasons["factors"][0]["facts"][0]["points"] == 3


def test_lenient_violations_weigh_less():
    for leniency in ("first", "minor", "mediated"):
        score, _, reasons = compute([fact(FactKind.VIOLATION, leniency=leniency)], policy(), NOW)
        assert score == 3.0 and reasons["factors"][0]["facts"][0]["contribution"] == 3.0


def test_thresholds_map_score_to_colour():
    p = policy()
    assert [p.color_for(s) for s in (0, 13.99, 14, 27.99, 28, 100)] == ["green", "green", "yellow", "yellow", "red", "red"]
    three_violations = [fact(FactKind.VIOLATION) for _ in range(3)]
    assert compute(three_violations, p, NOW)[1] == "red"
    assert compute(three_violations, policy(red_from=40, yellow_from=20), NOW)[1] == "yellow"


def test_decay_halves_at_the_half_life_and_window_drops_old_facts():
    p = policy(half_life_days=30)
    assert compute([fact(FactKind.VIOLATION, days_ago=30)], p, NOW)[0] == 5.0
    assert compute([fact(FactKind.VIOLATION, days_ago=60)], p, NOW)[0] == 2.5
    assert compute([fact(FactKind.VIOLATION, days_ago=0)], p, NOW)[0] == 10
    # Outside the look-back window, or in the future: not counted.
    assert compute([fact(FactKind.VIOLATION, days_ago=366)], p, NOW)[0] == 0
    assert compute([fact(FactKind.VIOLATION, days_ago=-1)], p, NOW)[0] == 0


def test_weight_zero_switches_a_factor_off():
    p = policy(weights={**default_weights(), "complaint": 0})
    assert compute([fact(FactKind.COMPLAINT, confirmed=True)], p, NOW)[0] == 0


def _fume(days_ago, value=3.5):
    return fact(FactKind.SENSOR_EXCEEDANCE, days_ago=days_ago, metric="fume", value=value)


def test_sensor_one_day_over_the_limit_is_at_least_yellow():
    score, color, reasons = compute([_fume(1)], policy(), NOW)
    assert score == 2 and color == "yellow"
    (rule,) = reasons["sensor_rules"]
    assert rule["color"] == "yellow" and rule["consecutive_days"] == 1 and rule["metric"] == "fume"


def test_sensor_two_consecutive_days_is_red_two_apart_is_yellow():
    assert compute([_fume(1), _fume(2)], policy(), NOW)[1] == "red"
    assert compute([_fume(1), _fume(3)], policy(), NOW)[1] == "yellow"
    # Two readings on the same day are one day.
    same_day = [_fume(1), fact(FactKind.SENSOR_EXCEEDANCE, at=NOW - timedelta(days=1, hours=1), metric="fume", value=4)]
    score, color, reasons = compute(same_day, policy(), NOW)
    assert color == "yellow" and score == 2 and reasons["factors"][0]["count"] == 1


def test_sensor_rule_is_data_limit_and_span_apply():
    # A reading under the (raised) limit no longer counts for the rule; outside within_days neither.
    raised = policy(sensor_rules=({"metric": "fume", "limit": 5.0, "days": 1, "color": "yellow", "within_days": 30},))
    assert compute([_fume(1, value=3.5)], raised, NOW)[1] == "green"
    assert compute([_fume(40)], policy(), NOW)[1] == "green"
    dust = policy(sensor_rules=({"metric": "dust", "limit": 0.5, "days": 1, "color": "red", "within_days": 7},))
    assert compute([fact(FactKind.SENSOR_EXCEEDANCE, metric="dust", value=0.8)], dust, NOW)[1] == "red"
    assert compute([_fume(1)], dust, NOW)[1] == "green"


def test_same_input_same_output():
    facts = [fact(k, days_ago=d) for k, d in ((FactKind.COMPLAINT, 3), (FactKind.VIOLATION, 10), (FactKind.RECTIFICATION_LATE, 50))]
    p = policy(half_life_days=90)
    assert compute(facts, p, NOW) == compute(list(reversed(facts)), p, NOW)
