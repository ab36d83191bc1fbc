"""Shared pieces of the figures: grouping keys, percentiles computed in the database where it can
(PostgreSQL's percentile_cont) and in Python where it cannot (SQLite, the embedded default), rates."""
from collections import defaultdict

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek

from analytics.choices import GroupBy

# group_by → (the queryset field to group on, the field naming the group for readers)
EVENT_GROUPS = {
    GroupBy.STREET: ("street_id", "street__name"),
    GroupBy.TEAM: ("team_id", "team__name"),
    GroupBy.OFFICER: ("officer_id", "officer__name"),
    GroupBy.GRID: ("grid_id", "grid__name"),
    GroupBy.PROBLEM_TYPE: ("problem_type_code", "problem_type_name"),
    GroupBy.SOURCE: ("source", None),
    GroupBy.SEVERITY: ("severity", None),
}
TRUNC = {GroupBy.DAY: TruncDay, GroupBy.WEEK: TruncWeek, GroupBy.MONTH: TruncMonth}


def group_expression(group_by: str | None, prefix: str = ""):
    """(the value expression to group on, the label field or None) for `group_by`; times are truncated in
    the current time zone (Asia/Shanghai), so a day runs from local midnight to midnight."""
    if group_by is None:
        return None, None
    if group_by in TRUNC:
        return TRUNC[group_by](f"{prefix}created_at"), None
    field, label = EVENT_GROUPS[group_by]
    return F(f"{prefix}{field}"), (f"{prefix}{label}" if label else None)


def key_text(value) -> str | None:
    """A group's key as the API shows it: dates as ISO days, everything else as text."""
    if value is None:
        return None
    if hasattr(value, "date") and callable(value.date):
        from django.utils import timezone

        return timezone.localtime(value).date().isoformat() if timezone.is_aware(value) else value.date().isoformat()
    return str(value)


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(f) WITHIN GROUP (ORDER BY expr): linear interpolation, as numpy's default."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


class EpochSeconds(Func):
    """Seconds between two timestamps (end − start), in SQL: EXTRACT(EPOCH …) on PostgreSQL."""

    output_field = FloatField()

    def __init__(self, end, start):
        super().__init__(F(end), F(start))

    def as_postgresql(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"EXTRACT(EPOCH FROM ({end} - {start}))", [*end_params, *start_params]

    def as_sql(self, compiler, connection, **extra):  # SQLite: julianday difference in seconds
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"((julianday({end}) - julianday({start})) * 86400.0)", [*end_params, *start_params]


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (percentile_cont's and numpy's default)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * fraction
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def duration_percentiles(qs, end_field: str, start_field: str, group) -> dict:
    """{group key: (median s, p90 s, n)} of end − start over rows where end is set."""
    rows = qs.filter(**{f"{end_field}__isnull": False})
    seconds = EpochSeconds(end_field, start_field)
    if connection.vendor == "postgresql":
        median, p90 = PercentileCont(seconds, 0.5), PercentileCont(seconds, 0.9)
        if group is None:
            r = rows.aggregate(median=median, p90=p90, n=Count("pk"))
            return {None: (r["median"], r["p90"], r["n"])} if r["n"] else {}
        out = (rows.annotate(_g=group).values("_g").annotate(median=median, p90=p90, n=Count("pk"))
               .values_list("_g", "median", "p90", "n"))
        return {key_text(g): (m, p, n) for g, m, p, n in out}
    values = defaultdict(list)
    annotated = rows.annotate(_s=seconds)
    if group is not None:
        for g, s in annotated.annotate(_g=group).values_list("_g", "_s").iterator(chunk_size=5000):
            values[key_text(g)].append(s)
    else:
        for s in annotated.values_list("_s", flat=True).iterator(chunk_size=5000):
            values[None].append(s)
    out = {}
    for key, vs in values.items():
        vs.sort()
        out[key] = (percentile(vs, 0.5), percentile(vs, 0.9), len(vs))
    return out


def durations_percentiles(qs, ends: dict[str, str], start_field: str, group) -> dict[str, dict]:
    """{name: {group key: (median s, p90 s, n)}} for several end fields at once: on PostgreSQL in one pass over
    the rows (each pair of percentiles FILTERed to rows where its end is set), elsewhere one by one."""
    if connection.vendor != "postgresql":
        return {name: duration_percentiles(qs, end, start_field, group) for name, end in ends.items()}
    aggregates = {}
    for name, end in ends.items():
        seconds, done = EpochSeconds(end, start_field), Q(**{f"{end}__isnull": False})
        aggregates.update({f"{name}_m": PercentileCont(seconds, 0.5, filter=done),
                           f"{name}_p": PercentileCont(seconds, 0.9, filter=done), f"{name}_n": Count("pk", filter=done)})
    if group is None:
        rows = [{"_g": None, **qs.aggregate(**aggregates)}]
    else:
        rows = qs.annotate(_g=group).values("_g").annotate(**aggregates).order_by()
    out = {name: {} for name in ends}
    for r in rows:
        key = key_text(r["_g"]) if group is not None else None
        for name in ends:
            if r[f"{name}_n"]:
                out[name][key] = (r[f"{name}_m"], r[f"{name}_p"], r[f"{name}_n"])
    return out


def rate(numerator: int, denominator: int) -> float | None:
    """A share in percent with one decimal; None when there is nothing to divide by (not 0 %, not 100 %)."""
    return None if not denominator else round(100.0 * numerator / denominator, 1)


PEOPLE_GROUPS = (GroupBy.TEAM, GroupBy.OFFICER)


def street_or_time(group_by: str | None, *, when: str, street: str = "street", people: str | None = None):
    """(grouping expression or None, label field or None) for figures grouped by street, by the grid of the
    record's subject (`<prefix>subject__grid` beside `<prefix>street`; none for a record without a subject),
    by officer or team through `<prefix><people>` (the record's officers: a visit's inspectors, a case's
    handlers; a record counts once for each of its officers and once for each of their teams, so the
    aggregates must count distinct rows), or by the local day / week / month of `when` (a date or datetime
    field); other groupings are refused by the parameters first."""
    if group_by is None:
        return None, None
    if group_by in TRUNC:
        return TRUNC[group_by](when), None
    prefix = street[: -len("street")]
    if group_by == GroupBy.GRID:
        return F(f"{prefix}subject__grid_id"), f"{prefix}subject__grid__name"
    if group_by == GroupBy.TEAM:
        return F(f"{prefix}{people}__team_id"), f"{prefix}{people}__team__name"
    if group_by == GroupBy.OFFICER:
        return F(f"{prefix}{people}__id"), f"{prefix}{people}__name"
    return F(f"{street}_id"), f"{street}__name"


def distinct_average(qs, group, label_field, value, *, count: str, average: str) -> dict:
    """{group key: {label, <count>, <average>}} like grouped_counts(), each record counted once per group
    even where the group's join repeats it (two handlers of one team): averaged here, over distinct rows."""
    from django.db.models import IntegerField, Value

    by = group if group is not None else Value(0, output_field=IntegerField())
    label = label_field or "_g"
    values = defaultdict(list)
    labels = {}
    for g, name, _pk, v in qs.annotate(_g=by, _v=value).values_list("_g", label, "pk", "_v").distinct().order_by():
        key = key_text(g) if group is not None else None
        values[key].append(v)
        labels[key] = name if label_field else None
    return {k: {"label": labels[k], count: len(vs), average: sum(vs) / len(vs)} for k, vs in values.items()}


def grouped_counts(qs, group, label_field, **aggregates) -> dict:
    """{group key: {label, **aggregates}} in one query; one key (None) over everything without a group."""
    from django.db.models import IntegerField, Value

    by = group if group is not None else Value(0, output_field=IntegerField())
    fields = ("_g", label_field) if label_field else ("_g",)
    out = {}
    for r in qs.annotate(_g=by).values(*fields).annotate(**aggregates).order_by():
        key = key_text(r["_g"]) if group is not None else None
        out[key] = {"label": r.get(label_field) if label_field else None, **{k: r[k] for k in aggregates}}
    return out
