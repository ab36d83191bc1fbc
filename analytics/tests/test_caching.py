"""Cached figures: served from the cache, never staler than the refresh interval while the period reaches
today (the refresh recomputes them), kept longer once the period is over (Asia/Shanghai days), per scope."""
from datetime import date

import pytest
from django.utils import timezone

from analytics import caching, tasks
from analytics.params import make_period
from analytics.selectors.events import event_figures
from analytics.testing import at

pytestmark = pytest.mark.django_db


def test_todays_figures_are_refreshed_by_the_periodic_task(users, report):
    today = make_period(None, timezone.localdate(), timezone.localdate())
    report()
    assert event_figures(users["dispatcher"], today)[0]["received"] == 1
    report()
    # Within the refresh interval the answer may come from the cache …
    assert event_figures(users["dispatcher"], today)[0]["received"] == 1
    # … and the refresh (Celery beat / the embedded ticker) brings today's count up to date.
    assert tasks.refresh_figures() > 0
    assert event_figures(users["dispatcher"], today)[0]["received"] == 2


def test_a_period_reaching_today_is_cached_no_longer_than_the_refresh_interval(settings):
    settings.ANALYTICS_CACHE_TODAY_SECONDS, settings.ANALYTICS_CACHE_SECONDS = 60, 3600
    settings.ANALYTICS_CACHE_REFRESH_SECONDS = 60
    november, december = make_period(None, date(2026, 11, 1), date(2026, 11, 30)), make_period(None, date(2026, 12, 1), date(2026, 12, 1))
    # 23:59 on 30 November in Shanghai (15:59 UTC): November still reaches today.
    assert caching.timeout_for(november, now=at(2026, 11, 30, 23, 59)) == 60
    # Half an hour after Shanghai's midnight (still 30 November in UTC): November is over, 1 December is today.
    assert caching.timeout_for(november, now=at(2026, 12, 1, 0, 30)) == 3600
    assert caching.timeout_for(december, now=at(2026, 12, 1, 0, 30)) == 60
    assert caching.today_seconds() <= caching.refresh_seconds()


def test_no_cache_when_the_interval_is_zero(users, report, settings):
    settings.ANALYTICS_CACHE_TODAY_SECONDS = 0
    today = make_period(None, timezone.localdate(), timezone.localdate())
    report()
    assert event_figures(users["dispatcher"], today)[0]["received"] == 1
    report()
    assert event_figures(users["dispatcher"], today)[0]["received"] == 2


def test_answers_are_cached_per_scope_not_shared_across_areas(users, report):
    from command_center.testing import S2_POINT

    today = make_period(None, timezone.localdate(), timezone.localdate())
    report()
    report(point=S2_POINT)
    assert event_figures(users["dispatcher"], today)[0]["received"] == 2
    assert event_figures(users["leader_s1"], today)[0]["received"] == 1
    assert event_figures(users["leader_s2"], today)[0]["received"] == 1
    # The same areas share an answer (the key is the scope, not the person).
    assert caching.cache_key("events", users["bureau"], today, {}) == caching.cache_key("events", users["dispatcher"], today, {})


def test_the_refresh_runs_on_beat_and_on_the_embedded_ticker(settings):
    from command_center import ticker

    entry = settings.CELERY_BEAT_SCHEDULE["analytics-refresh-figures"]
    assert entry["task"] == "analytics.tasks.refresh_figures" and entry["schedule"] <= settings.ANALYTICS_CACHE_TODAY_SECONDS
    assert "analytics-refresh-figures" in ticker._periodic
