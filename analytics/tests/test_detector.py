"""The hot-area test, pure: the binomial tail by hand, a planted hot spot found, no alarm on flat data."""
import math
import random

import pytest

from analytics import detector

TEST = detector.HotspotTest()  # the defaults: alpha 0.0001, at least 3 reports


def test_binomial_tail_by_hand():
    # 3 reports now, none in the 8 weeks before: all 3 fell in the current window, p0 = 1/9 each
    assert detector.p_value(3, 0, 8) == pytest.approx((1 / 9) ** 3)
    # P(X ≥ 1) for Binomial(2, 0.5) = 1 − 0.25
    assert detector.binomial_upper_tail(1, 2, 0.5) == pytest.approx(0.75)
    assert detector.binomial_upper_tail(0, 5, 0.3) == 1.0 and detector.binomial_upper_tail(6, 5, 0.3) == 0.0
    # large n stays finite and correct: the mean of Binomial(10000, 0.5) is at the middle
    assert detector.binomial_upper_tail(5000, 10000, 0.5) == pytest.approx(0.504, abs=0.001)


def test_min_count_and_significance():
    assert detector.is_hot(2, 0, 8, TEST)[0] is False  # below the minimum count, however unlikely
    assert detector.is_hot(4, 0, 8, TEST)[0] is False  # (1/9)^4 = 0.00015: four first reports are no alarm yet
    assert detector.is_hot(5, 0, 8, TEST)[0] is True  # (1/9)^5 = 0.000017
    assert detector.is_hot(6, 40, 8, TEST)[0] is False  # a busy grid's usual week (5 a week before)
    assert detector.is_hot(20, 40, 8, TEST)[0] is True


def daily_poisson(rng, days, rate_per_day, extra=()):
    """Daily Poisson counts (Knuth's method), followed by `extra` planted days."""
    out = []
    for _day in range(days):
        k, p, limit = 0, 1.0, math.exp(-rate_per_day)
        while True:
            p *= rng.random()
            if p <= limit:
                break
            k += 1
        out.append(k)
    return out + list(extra)


def checks_that_raise(daily, window=7, history=8):
    """The weekly window checked once a day over the series: the days on which it would raise."""
    return [day for day in range(window * (history + 1), len(daily) + 1)
            if detector.is_hot(sum(daily[day - window:day]), sum(daily[day - window * (history + 1):day - window]),
                               history, TEST)[0]]


def test_no_false_alarm_on_90_flat_days():
    # 20 grid-type pairs at steady rates from one report a fortnight to one a day, checked daily for 90 days
    rng = random.Random(20261205)
    alarms = [len(checks_that_raise(daily_poisson(rng, 90 + 63, rate))[-90:])
              for rate in (0.07, 0.2, 0.5, 1.0) for _pair in range(5)]
    assert sum(alarms) == 0, alarms


def test_a_planted_hot_spot_is_found_within_one_check():
    rng = random.Random(7)
    daily = daily_poisson(rng, 70, 0.1, extra=[3, 4, 3])  # a market-day rush: 10 reports in 3 days
    raised = checks_that_raise(daily)
    assert raised and raised[0] <= len(daily)  # by the check on the rush's last day at the latest
    assert all(day > 70 for day in raised)  # and not before it
