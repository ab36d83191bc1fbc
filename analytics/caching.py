"""Cached figures: the answers of the figure functions (computed in the database) kept in Django's cache
(Redis in production, per process in the embedded default), never stored as a second source of truth.

A figure is cached under what decides it: the figure, the asker's scope (their area paths, not who they are,
so a street's leaders share answers), the area, the days, the grouping and the language. How long:
- a period reaching today: at most ANALYTICS_CACHE_TODAY_SECONDS (60), the refresh interval, so today's
  counts are never staler than that;
- a finished period: ANALYTICS_CACHE_SECONDS (3600); later changes to those days (an event of last month
  resolved or rated today) show within that time.
The refresh (refresh_figures: Celery beat every ANALYTICS_CACHE_REFRESH_SECONDS, the embedded ticker in
`make run`) recomputes what people open most: the screen's today (light: one day's events) and /reports/'
default view of the district every time, and each street's last whole month (its monthly report) when
its hour is up, so those are answered from the cache."""
import functools
import hashlib
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation

from grids import selectors as grid_selectors

KEY_VERSION = 1  # bump when a figure's shape or definition changes: old answers are then never read


def today_seconds() -> float:
    return float(getattr(settings, "ANALYTICS_CACHE_TODAY_SECONDS", 60))


def past_seconds() -> float:
    return float(getattr(settings, "ANALYTICS_CACHE_SECONDS", 3600))


def refresh_seconds() -> float:
    return float(getattr(settings, "ANALYTICS_CACHE_REFRESH_SECONDS", today_seconds()))


def _scope(user) -> str:
    paths = grid_selectors.user_area_paths(user)
    return "all" if paths is None else ",".join(sorted(paths))


def cache_key(name: str, user, period, extra: dict) -> str:
    parts = [name, _scope(user), period.area.pk if period.area else "", period.date_from, period.date_to,
             period.group_by or "", translation.get_language() or "", sorted(extra.items())]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"analytics:v{KEY_VERSION}:{name}:{digest}"


def timeout_for(period, now=None) -> float:
    """Seconds an answer may be served: short while the period reaches today (a local, Asia/Shanghai day),
    longer once it is over."""
    today = timezone.localdate(now) if now else timezone.localdate()
    return today_seconds() if period.date_to >= today else past_seconds()


def cached(name: str):
    """Decorate a figure function fn(user, period, **options) → its answers served from the cache."""

    def wrap(fn):
        @functools.wraps(fn)
        def figures(user, period, *, refresh=False, **options):
            key = cache_key(name, user, period, options)
            timeout = timeout_for(period)
            if not refresh and timeout > 0:
                hit = cache.get(key)
                if hit is not None:
                    return hit
            value = fn(user, period, **options)
            if timeout > 0:
                cache.set(key, value, timeout)
            return value

        figures.uncached = fn
        return figures

    return wrap


class DistrictReader:
    """Who the refresh computes as: sees the whole district (the figures' scope "all"), never logs in."""

    is_authenticated = True
    is_active = True
    is_superuser = True
    is_staff = False
    pk = id = None
    _area_paths_cache = None
    _micro_grid_ids_cache = ()

    def get_username(self):
        return "analytics-refresh"


def refresh_figures(now=None) -> int:
    """Recompute the most opened figures into the cache; returns how many answers it computed or found."""
    from analytics import params
    from analytics.choices import GroupBy
    from analytics.selectors import cases, events, inspections, screen, trends
    from grids.choices import AreaKind
    from grids.models import Area

    reader = DistrictReader()
    today = timezone.localdate(now) if now else timezone.localdate()
    month_end = today.replace(day=1) - timedelta(days=1)
    last_month = (month_end.replace(day=1), month_end)
    written = 0
    with translation.override(settings.LANGUAGE_CODE):
        # /reports/' default: the last 30 days of the district by street, 12 weeks of trends
        by_street = params.make_period(None, today - timedelta(days=29), today, GroupBy.STREET)
        for fn in (events.event_figures, inspections.inspection_figures, cases.case_figures):
            fn(reader, by_street, refresh=True)
            written += 1
        weeks = params.make_period(None, today - timedelta(days=12 * 7 - 1), today, GroupBy.WEEK)
        trends.trends(reader, weeks, interval=GroupBy.WEEK, refresh=True)
        written += 1
        streets = list(Area.objects.filter(kind=AreaKind.STREET).only("pk", "code", "path"))
        for area in [None, *streets]:
            today_only = params.make_period(area, today, today)
            for group_by in screen.GROUPINGS:  # what the big screen shows, today
                events.event_figures(reader, replace(today_only, group_by=group_by), refresh=True)
                written += 1
            if area is None:
                continue
            # The street's monthly report of the last whole month: a finished period, computed again only once
            # its answer has expired (an hour), not every minute.
            period = params.make_period(area, *last_month)
            for fn in (events.event_figures, inspections.inspection_figures, cases.case_figures):
                fn(reader, period)
                written += 1
    return written


def refresh_figures_now():
    """The periodic job (Celery beat / the embedded ticker)."""
    return refresh_figures()

