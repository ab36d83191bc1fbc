"""Reads behind the dispatcher's dashboard and the big screen, scoped by the asking user's areas.

"Today" is the local calendar day (settings.TIME_ZONE): a shift's figures reset at midnight, not at UTC's.
"""
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, F, Func, TextField
from django.utils import timezone

from analytics.selectors import screen as screen_figures
from command_center import push, submissions
from command_center.choices import OPEN_STATUSES, Severity, Source
from command_center.models import Deadline, Event
from command_center.selectors import overdue_q
from grids import selectors as grid_selectors
from grids.choices import AreaKind, DutyStatus

TOP_PROBLEM_TYPES = 5


def day_bounds(now=None) -> tuple[datetime, datetime]:
    """[start, end) of the local day containing `now`, as aware datetimes."""
    now = now or timezone.now()
    day = timezone.localtime(now).date()
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def figures_for(user, now=None) -> dict:
    """Today's figures for the header and the big screen: events by source and severity, on-time rate
    by stage, top problem types, open and overdue events, officers on duty. A fixed number of queries."""
    now = now or timezone.now()
    start, end = day_bounds(now)
    events = grid_selectors.scope(Event.objects.all(), user, "area__path")
    today = events.filter(created_at__gte=start, created_at__lt=end)

    by_source = dict(today.values_list("source").annotate(n=Count("id")).order_by())
    by_severity = dict(today.values_list("severity").annotate(n=Count("id")).order_by())
    top = list(today.values("problem_type_code").annotate(n=Count("id"), name=F("problem_type_name"))
               .order_by("-n", "problem_type_code")[: TOP_PROBLEM_TYPES * 3])
    # problem_type_name is the name at intake: the same code may carry two names across catalog versions.
    merged = {}
    for row in top:
        item = merged.setdefault(row["problem_type_code"], {"code": row["problem_type_code"], "name": row["name"], "count": 0})
        item["count"] += row["n"]
    top_types = sorted(merged.values(), key=lambda r: (-r["count"], r["code"]))[:TOP_PROBLEM_TYPES]

    open_events = events.filter(status__in=OPEN_STATUSES)
    open_by_severity = dict(open_events.values_list("severity").annotate(n=Count("id")).order_by())
    overdue = open_events.filter(overdue_q(now)).count()

    officers = grid_selectors.officers_for(user).select_related(None).prefetch_related(None)
    duty = dict(officers.values_list("duty_status").annotate(n=Count("id")).order_by())
    on_duty = sum(n for status, n in duty.items() if status != DutyStatus.OFF_DUTY)
    # Who the ranking can actually pick: on duty (not on a break either) with a fresh position.
    fresh_after = now - timedelta(seconds=getattr(settings, "COMMAND_CENTER_POSITION_FRESH_SECONDS", 300))
    dispatchable = (officers.exclude(duty_status__in=(DutyStatus.OFF_DUTY, DutyStatus.ON_BREAK))
                    .filter(last_lat__isnull=False, last_lng__isnull=False, last_position_at__gte=fresh_after).count())

    return {
        "date": timezone.localtime(now).date().isoformat(),
        "generated_at": now.isoformat(),
        "today": {
            "total": sum(by_source.values()),
            "by_source": [{"source": s, "label": str(label), "count": by_source.get(s, 0)} for s, label in Source.choices],
            "by_severity": [{"severity": s, "label": str(label), "count": by_severity.get(s, 0)}
                            for s, label in Severity.choices],
            "top_problem_types": top_types,
        },
        # One definition of the on-time rate: analytics' (the screen, /reports/ and the stats API agree).
        "on_time": screen_figures.today_on_time(user, now),
        "open": {
            "total": sum(open_by_severity.values()),
            "by_severity": [{"severity": s, "label": str(label), "count": open_by_severity.get(s, 0)}
                            for s, label in Severity.choices],
            "overdue": overdue,
        },
        "officers": {
            "on_duty": on_duty,
            "dispatchable": dispatchable,
            "total": sum(duty.values()),
            "by_status": [{"status": s, "label": str(label), "count": duty.get(s, 0)} for s, label in DutyStatus.choices],
        },
        # Machine feeds' reports accepted (202) and not processed yet, all clients (a count, nothing more).
        "submissions_backlog": submissions.backlog(),
    }


def streets_for(user) -> list[dict]:
    """The streets the user may see (filters and queue labels): id, code, name."""
    qs = grid_selectors.areas_for(user).filter(kind=AreaKind.STREET).select_related(None).defer("boundary")
    paths = grid_selectors.user_area_paths(user)
    rows = qs.order_by("code").values("id", "code", "name", "path")
    if paths is None:
        return [{k: r[k] for k in ("id", "code", "name")} for r in rows]
    # areas_for also lists ancestors: keep streets inside the user's areas, or containing one of them.
    return [{k: r[k] for k in ("id", "code", "name")} for r in rows
            if any(r["path"].startswith(p) or p.startswith(r["path"]) for p in paths)]


def problem_types() -> list[dict]:
    from enforcement.models import ProblemType

    return list(ProblemType.objects.filter(active=True).order_by("code").values("code", "name"))


def teams_for(user) -> list[dict]:
    from grids.models import Team

    qs = grid_selectors.scope(Team.objects.all(), user, "street__path")
    return list(qs.order_by("code").values("id", "code", "name"))


# --- the desk's snapshot (GET /api/v1/command/snapshot/) -----------------------------------------

def snapshot_for(user) -> dict:
    """The desk's snapshot: open events, officers and each stream's seq for what the user's consumer joins
    (seqs first), in the pushed rows' format. The three queries are built by the ORM with grids.selectors'
    scope rules, compiled once per process for each user and set of areas (compiling them was most of the
    request), and their rows turned into the dicts straight from the cursor. The rows themselves are read
    afresh on every call."""
    paths = grid_selectors.user_area_paths(user)
    # The seqs first: every message up to them is in the rows read after (push's rule).
    seqs = push.current_seqs(push.groups_for_paths(paths))
    events_query, deadlines_query, officers_query = _snapshot_queries(user, paths)

    events = _read(events_query)
    by_event = {}
    for row in events:
        row["deadlines"] = by_event[row["id"]] = []
    for row in _read(deadlines_query):
        deadlines = by_event.get(row.pop("event_id"))
        if deadlines is not None:  # an event that opened after the events were read is not in them
            deadlines.append(row)
    officers = _read(officers_query)
    return {"streams": seqs, "terminal_statuses": list(push.TERMINAL_STATUSES), "events": events,
            "officers": officers}


# (database alias, USE_TZ, user id, area paths) -> the snapshot's three queries. The SQL and its parameters
# are a function of these alone; a change of the user's areas is a new key (core.refcache drops their paths).
_SNAPSHOT_QUERIES: dict = {}
_SNAPSHOT_QUERIES_KEPT = 500  # users at desks: a handful; the bound only stops a leak
ISO = "iso_"  # the alias prefix of a datetime column read as text (`_compiled`)


def _snapshot_queries(user, paths) -> tuple:
    key = (Event.objects.db, settings.USE_TZ, user.pk, None if paths is None else tuple(paths))
    queries = _SNAPSHOT_QUERIES.get(key)
    if queries is None:
        events = grid_selectors.scope(Event.objects.exclude(status__in=push.TERMINAL_STATUSES), user, "area__path")
        deadlines = Deadline.objects.filter(cancelled_at__isnull=True, event__in=events.values("id"))
        officers = grid_selectors.officers_for(user).select_related(None).prefetch_related(None)
        queries = (
            _compiled(events.order_by("id"), push.EVENT_FIELDS, ("created_at", "updated_at")),
            _compiled(deadlines.order_by("event_id", "position", "id"), ("event_id", "stage", "due_at", "met_at",
                      "breached_at"), ("due_at", "met_at", "breached_at")),
            _compiled(officers.order_by("id"), push.OFFICER_FIELDS, ("last_position_at",)),
        )
        if len(_SNAPSHOT_QUERIES) >= _SNAPSHOT_QUERIES_KEPT:
            _SNAPSHOT_QUERIES.clear()
        _SNAPSHOT_QUERIES[key] = queries
    return queries


def _compiled(qs, fields, times) -> tuple | None:
    """(alias, SQL, params, column names, query, converters, datetimes to format) reading `fields` of `qs`,
    the datetimes among them (`times`) as their isoformat text, by the database where it can (then nothing
    is left to format per row); None when the query can hold nothing (a user without areas)."""
    connection = connections[qs.db]
    in_sql = settings.USE_TZ and connection.vendor in IsoUtcText.VENDORS
    qs = qs.values(*(f for f in fields if f not in times), **{ISO + t: IsoUtcText(t) if in_sql else F(t) for t in times})
    compiler = qs.query.get_compiler(qs.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    names = tuple(alias.removeprefix(ISO) for _expression, _sql, alias in compiler.select)
    if names != tuple(fields):  # the rows' keys in push's order (its datetimes come last)
        raise ValueError(f"snapshot columns {names} are not {fields}")
    converters = compiler.get_converters([expression for expression, _sql, _alias in compiler.select])
    return qs.db, sql, tuple(params), names, qs.query, converters, () if in_sql else times


class IsoUtcText(Func):
    """A datetime column as the text of `datetime.isoformat()` on its aware UTC value (push's rows), made by
    the database: turning thousands of them into datetimes and back into text was the snapshot's biggest
    remaining cost. PostgreSQL formats the timestamptz (microseconds only when there are any, as Python);
    SQLite already keeps UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'. NULL stays NULL."""

    VENDORS = ("postgresql", "sqlite")
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.get_source_expressions()[0])
        utc = f"({column} AT TIME ZONE 'UTC')"
        sql = (f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN date_trunc('second', {column}) = {column} "
               f"THEN '' ELSE to_char({utc}, '.US') END || '+00:00'")
        return sql, tuple(params) * 4

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.get_source_expressions()[0])
        return f"replace(CAST({column} AS text), ' ', 'T') || '+00:00'", tuple(params)


def _read(query) -> list[dict]:
    if query is None:
        return []
    alias, sql, params, names, compiled_query, converters, to_format = query
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if converters:  # the fields' own conversions, as the ORM applies them (none for these columns today)
        rows = compiled_query.get_compiler(alias).apply_converters(rows, converters)
    rows = [dict(zip(names, row)) for row in rows]
    for row in rows if to_format else ():  # the database gave datetimes (USE_TZ off, another vendor)
        for name in to_format:
            if row[name] is not None:
                row[name] = row[name].isoformat()
    return rows
