"""Figures over a district's two years (issue 17): a street's monthly report and the district's figures over
one million events, 100,000 inspections and 20,000 cases, each in ≤ 2 s with a cold cache.

1. A scratch PostgreSQL database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_reports) is
   dropped, created and migrated. A district of 10 streets (4 communities, 20 grids each), 20,000 subjects,
   200 officers are written with the ORM; then, in SQL (INSERT … SELECT generate_series, no row-by-row ORM):
   events over the last 730 days (streets, grids and problem types skewed, eight sources, four severities;
   times to signing for, arrival and handling spread; three SLA deadlines each, met or breached; 2 %
   escalated; satisfaction on a third), inspection visits (80 % joint, with 1–3 departments) and ~1.5
   findings each, cases with a matter each, legal reviews, appeals and quality reviews. VACUUM ANALYZE after.
2. Cold cache: the analytics cache is cleared and a new database connection opened before each timing.
   Timed (median of --runs): `analytics.monthly.monthly_report` (the PDF) for the busiest street's last
   whole month, and "the district's figures": what /reports/ computes for the whole district over the last
   30 days grouped by street (event figures, weekly trends of 12 weeks, inspection and case figures).
3. PASS/FAIL per target; when over, the slowest queries' plans (EXPLAIN ANALYZE, main nodes).

    .venv/bin/python bench/reports.py [--scale 1.0] [--runs 3] [--keep] [--reuse]

--scale 0.1 generates a tenth (a quick look); --keep leaves the database for inspection, --reuse times on it
again without generating. A measurement: it
exits 0 whether the targets are met or not (the PASS/FAIL lines say which).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_reports"
TARGET_S = 2.0
EVENTS, VISITS, CASES = 1_000_000, 100_000, 20_000
STREETS, COMMUNITIES, GRIDS, SUBJECTS, OFFICERS_PER_STREET = 10, 4, 5, 20_000, 20
DAYS = 730
SOURCES = ["citizen", "grid_worker", "collector", "sensor", "ai_camera", "drone", "hotline_12345", "inspection"]
SEVERITIES = ["blue", "yellow", "orange", "red"]
PROBLEM_TYPES = 30


def _admin(url: str, *statements):
    """Run statements on the server's `postgres` database (creating or dropping the scratch one)."""
    import psycopg2

    conn = psycopg2.connect(url[: url.rfind("/")] + "/postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


def recreate_database(url: str):
    name = urlparse(url).path.lstrip("/")
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def drop_database(url: str):
    _admin(url, f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')


def build_places():
    """District, streets, communities, grids (paths set directly), categories, departments, the catalog,
    teams, officers and the bench's reader (district-wide bureau staff). Returns the reader."""
    from _common import area
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from core import roles
    from enforcement.models import CatalogVersion, Matter
    from grids import accounts
    from grids.models import Department, Officer, SubjectCategory, Team

    district = area("BD", "基准区", "district")
    for s in range(STREETS):
        street = area(f"BS{s}", f"街道{s}", "street", district)
        team = Team.objects.create(code=f"BT{s}", name=f"街道{s}执法中队", street=street)
        for c in range(COMMUNITIES):
            community = area(f"BS{s}C{c}", f"社区{s}-{c}", "community", street)
            for g in range(GRIDS):
                area(f"BS{s}C{c}G{g}", f"网格{s}-{c}-{g}", "grid", community)
        users = get_user_model().objects.bulk_create(
            [get_user_model()(username=f"bo{s}-{k}") for k in range(OFFICERS_PER_STREET)])
        dep = Department.objects.get_or_create(code="ZHZF", defaults={"name": "综合行政执法局", "short_name": "综合执法"})[0]
        Officer.objects.bulk_create([Officer(user=u, name=f"队员{s}-{k}", badge_no=f"B{s:02d}{k:03d}", team=team,
                                             home_department=dep, phone="") for k, u in enumerate(users)])
    for code, name in (("SCJG", "市场监督管理局"), ("XF", "消防救援大队"), ("ST", "生态环境分局"), ("ZJ", "住建局")):
        Department.objects.create(code=code, name=name, short_name=name[:4])
    food = SubjectCategory.objects.create(code="FOOD", name="餐饮")
    SubjectCategory.objects.create(code="FOOD-R", name="餐馆", parent=food)
    version = CatalogVersion.objects.create(number=1, status="published", published_at=timezone.now())
    Matter.objects.create(code="M1", name="占道经营", law="城市市容和环境卫生管理条例", article="第十四条", kind="penalty",
                          domain="市容", status="active", department=Department.objects.get(code="ZHZF"), version=version)
    reader, _ = accounts.add_user(None, username="bench_bureau", role=roles.BUREAU_STAFF, area_codes=["BD"],
                                  password="bench-pass-2026")
    return reader


# Lookup tables the generators join on: grids numbered 0..G-1 street by street (so a skewed draw favours
# the first streets), subjects numbered 0..S-1, problem types 0..T-1, departments 0..D-1.
LOOKUPS = f"""
CREATE TEMP TABLE b_grid AS
  SELECT (row_number() OVER (ORDER BY g.id) - 1)::int AS n, g.id AS grid_id, s.id AS street_id, t.id AS team_id,
         (SELECT min(o.id) FROM grids_officer o WHERE o.team_id = t.id) AS officer0
  FROM grids_area g JOIN grids_area c ON c.id = g.parent_id JOIN grids_area s ON s.id = c.parent_id
  JOIN grids_team t ON t.street_id = s.id WHERE g.kind = 'grid';
CREATE TEMP TABLE b_type AS
  SELECT n, 'PT' || lpad(n::text, 2, '0') AS code, '问题类型' || n AS name FROM generate_series(0, {PROBLEM_TYPES - 1}) n;
CREATE TEMP TABLE b_dep AS SELECT (row_number() OVER (ORDER BY id) - 1)::int AS n, id FROM grids_department;
ANALYZE b_grid; ANALYZE b_type; ANALYZE b_dep;
"""


def sql_subjects(n):
    return f"""
INSERT INTO grids_subject (name, legal_representative, contact_phone, licence_no, shop_sign, address, lat, lng,
                           status, created_at, updated_at, grid_id, category_id)
SELECT '商户' || i, '', '', NULL, '', '', 30.5, 120.5, 'active', now(), now(), g.grid_id,
       (SELECT id FROM grids_subjectcategory WHERE code = 'FOOD-R')
FROM generate_series(0, {n - 1}) i JOIN b_grid g ON g.n = i % (SELECT count(*) FROM b_grid);
CREATE TEMP TABLE b_subject AS
  SELECT (row_number() OVER (ORDER BY s.id) - 1)::int AS n, s.id, g.street_id
  FROM grids_subject s JOIN b_grid g ON g.grid_id = s.grid_id;
ANALYZE b_subject;
"""


def sql_events(n, grids=STREETS * COMMUNITIES * GRIDS):
    # r_* are uniform draws; created spreads over DAYS days up to now; a fifth of the events are still open
    # only in the last three days. Durations: signing for 1–20 min, arrival +5–60 min, handling +0.5–30 h.
    return f"""
INSERT INTO command_center_event (source, external_id, reporter_name, reporter_phone, problem_type_code,
    problem_type_name, matter_code, description, lat, lng, address, delegated, routing_reason, severity, status,
    escalation_level, transferred_to, result, satisfaction, version, created_at, updated_at, dispatched_at,
    accepted_at, arrived_at, resolved_at, closed_at, area_id, grid_id, street_id, team_id, officer_id, return_reason)
SELECT (ARRAY{SOURCES!r})[1 + floor(r_src * {len(SOURCES)})::int], NULL, '', '', t.code, t.name, '', '', 30.5, 120.5,
       '', false, '', (ARRAY{SEVERITIES!r})[1 + floor(power(r_sev, 2) * 4)::int],
       CASE WHEN done THEN 'closed' ELSE 'dispatched' END, CASE WHEN r_esc < 0.02 THEN 1 ELSE 0 END, '', '',
       CASE WHEN done AND r_sat < 0.33 THEN 1 + floor(power(r_sat * 3, 0.3) * 5)::int END, 0,
       created, created, created + interval '1 minute',
       created + (60 + r_acc * 1140) * interval '1 second',
       CASE WHEN done THEN created + (360 + r_acc * 1140 + r_arr * 3300) * interval '1 second' END,
       CASE WHEN done THEN created + (2160 + r_acc * 1140 + r_arr * 3300 + r_res * 106000) * interval '1 second' END,
       CASE WHEN done THEN created + (3000 + r_acc * 1140 + r_arr * 3300 + r_res * 106000) * interval '1 second' END,
       g.grid_id, g.grid_id, g.street_id, g.team_id, g.officer0 + floor(r_off * {OFFICERS_PER_STREET})::int, ''
FROM (SELECT now() - power(random(), 1.1) * interval '{DAYS} days' AS created, random() AS r_src, random() AS r_sev,
             random() AS r_esc, random() AS r_sat, random() AS r_acc, random() AS r_arr, random() AS r_res,
             random() AS r_off, random() AS r_done,
             floor(power(random(), 1.6) * {grids})::int AS gn, floor(power(random(), 2.2) * {PROBLEM_TYPES})::int AS tn
      FROM generate_series(1, {n})) d
CROSS JOIN LATERAL (SELECT d.created < now() - interval '3 days' OR d.r_done < 0.8 AS done) k
JOIN b_grid g ON g.n = d.gn JOIN b_type t ON t.n = d.tn
ORDER BY d.created;  -- events arrive in time order: the table's rows lie in created_at order, as in real use
-- Three SLA deadlines each (respond 10 min, arrive 45 min, handle 24 h), met or breached as the times say.
INSERT INTO command_center_deadline (stage, position, met_by, escalate_to, policy_name, due_at, met_at, breached_at,
                                     fired_at, cancelled_at, event_id)
SELECT s.stage, s.pos, '', '', 'bench', e.created_at + s.due, m.met,
       CASE WHEN coalesce(m.met, now()) > e.created_at + s.due AND e.created_at + s.due < now()
            THEN e.created_at + s.due END,
       CASE WHEN coalesce(m.met, now()) > e.created_at + s.due AND e.created_at + s.due < now()
            THEN e.created_at + s.due END, NULL, e.id
FROM command_center_event e
CROSS JOIN (VALUES ('respond', 0, interval '10 minutes'), ('arrive', 1, interval '45 minutes'),
                   ('handle', 2, interval '24 hours')) s(stage, pos, due)
CROSS JOIN LATERAL (SELECT CASE s.stage WHEN 'respond' THEN e.accepted_at WHEN 'arrive' THEN e.arrived_at
                                        ELSE e.resolved_at END AS met) m
ORDER BY e.id, s.pos;
INSERT INTO command_center_escalation (at, target, level, reason, event_id)
SELECT created_at + interval '30 minutes', 'leader', 1, 'bench', id FROM command_center_event WHERE escalation_level > 0;
"""


def sql_visits(n, subjects):
    months = DAYS // 30
    # Visit i: subject (i / months) % subjects in month i % months (one joint visit per subject and month).
    return f"""
INSERT INTO inspections_visit (date, month, kind, one_off_reason, reason, reason_text, item_count, route_order, draw_seed,
    status, representative_name, representative_refused, signature, signature_client_id, completed_at, created_at,
    street_id, subject_id)
SELECT day, date_trunc('month', day)::date, CASE WHEN joint THEN 'concentrated' ELSE 'one_off' END,
       CASE WHEN joint THEN '' ELSE 'complaint' END, 'manual', '', 8, 0, '', 'completed', '', false, '', NULL,
       day + interval '10 hours', day, s.street_id, s.id
FROM (SELECT i, (date_trunc('month', now()) - (1 + i % {months}) * interval '1 month'
                 + floor(random() * 27) * interval '1 day')::date AS day, random() < 0.8 AS joint
      FROM generate_series(0, {n - 1}) i) v
JOIN b_subject s ON s.n = (v.i / {months}) % {subjects}
ORDER BY day;
INSERT INTO inspections_visit_departments (visit_id, department_id)
SELECT v.id, d.id FROM inspections_visit v JOIN b_dep d ON d.n <= v.id % 3 WHERE v.kind = 'concentrated';
INSERT INTO inspections_finding (client_id, item_code, item_text, matter_code, weight, result, note, rectification,
    comply_by, rectification_status, rectified_at, overdue_raised_at, correction_reason, recorded_at, visit_id)
SELECT 'bf-' || v.id || '-' || k, 'F' || k, '检查条目', '', 1, CASE WHEN fail THEN 'fail' ELSE 'pass' END, '',
       CASE WHEN NOT fail THEN '' WHEN r < 0.5 THEN 'on_the_spot' ELSE 'deadline' END,
       CASE WHEN fail AND r >= 0.5 THEN v.date + 14 END,
       CASE WHEN NOT fail THEN '' WHEN r < 0.85 THEN 'done' WHEN r < 0.95 THEN 'overdue' ELSE 'open' END,
       CASE WHEN fail AND r < 0.85 THEN v.completed_at + interval '3 days' END,
       CASE WHEN fail AND r >= 0.85 AND r < 0.95 THEN v.completed_at + interval '15 days' END,
       '', v.completed_at, v.id
FROM inspections_visit v
CROSS JOIN LATERAL generate_series(1, 1 + (v.id % 2)::int) k
CROSS JOIN LATERAL (SELECT random() < 0.3 + 0 * v.id AS fail, random() + 0 * k AS r) x;
"""


def sql_cases(n, subjects):
    return f"""
INSERT INTO cases_case (number, status, procedure, version, origin, origin_ref, party_kind, person_name,
    person_id_number, person_phone, facts, facts_on, filed_at, decision_due_at, overdue, hearing_eligible,
    hearing_held, legal_review_required, legal_review_passed, decided_at, decision_text, total_fine,
    service_method, execution_note, closed_at, created_at, updated_at, catalog_version_id, street_id, subject_id)
SELECT 'BENCH-' || i, CASE WHEN closed THEN 'closed' ELSE 'investigation' END, 'general', 0, 'direct', '', 'business',
       '', '', '', '', filed::date, filed, filed + interval '90 days', false, false, false, false, false,
       CASE WHEN closed THEN filed + (10 + r * 85) * interval '1 day' END, '', 0, '', '',
       CASE WHEN closed THEN filed + (15 + r * 85) * interval '1 day' END, filed, filed,
       (SELECT id FROM enforcement_catalogversion LIMIT 1), s.street_id, s.id
FROM (SELECT i, now() - random() * interval '{DAYS} days' AS filed, random() AS r, random() AS rs FROM generate_series(0, {n - 1}) i) c
CROSS JOIN LATERAL (SELECT c.filed < now() - interval '100 days' OR c.r < 0.5 AS closed) k
JOIN b_subject s ON s.n = floor(power(c.rs, 1.5) * {subjects})::int
ORDER BY c.filed;
INSERT INTO cases_casematter (outcome, lenient_ground, fine, measures, reason, first_violation, case_id, department_id, matter_id)
SELECT CASE WHEN id % 10 < 6 THEN 'penalty' WHEN id % 10 < 8 THEN 'reduced' ELSE 'no_penalty' END,
       CASE WHEN id % 10 = 8 THEN 'minor' WHEN id % 10 = 9 THEN 'first' ELSE '' END, 200, '', '', false, id,
       (SELECT id FROM grids_department WHERE code = 'ZHZF'), (SELECT id FROM enforcement_matter LIMIT 1)
FROM cases_case WHERE decided_at IS NOT NULL;
INSERT INTO cases_caserecord (step, actor_label, at, from_status, to_status, note, data, case_id)
SELECT 'legal_review', '法制员', decided_at - interval '2 days', 'legal_review', 'legal_review', '',
       jsonb_build_object('opinion', CASE WHEN id % 7 = 0 THEN 'return' ELSE 'agree' END), id
FROM cases_case WHERE decided_at IS NOT NULL AND id % 3 = 0;
INSERT INTO cases_appeal (kind, grounds, lodged_at, due_at, result, result_note, decided_at, recorded_by_id, case_id)
SELECT 'reconsideration', '', decided_at + interval '20 days', decided_at + interval '80 days',
       (ARRAY['upheld', 'revoked', 'changed', ''])[1 + id % 4], '', NULL, %(user)s, id
FROM cases_case WHERE decided_at IS NOT NULL AND id % 33 = 0;
INSERT INTO cases_qualityreview (scores, total, max_total, comment, reviewed_at, case_id, reviewer_id)
SELECT '{{}}'::jsonb, 60 + id % 40, 100, '', closed_at + interval '7 days', id, %(user)s
FROM cases_case WHERE closed_at IS NOT NULL AND id % 10 = 0;
"""


BULK_TABLES = ("command_center_event", "command_center_deadline", "command_center_escalation", "inspections_visit",
               "inspections_visit_departments", "inspections_finding", "cases_case", "cases_casematter",
               "cases_caserecord", "cases_appeal", "cases_qualityreview", "grids_subject")


def generate(scale: float, reader):
    from django.db import connection

    events, visits, cases = (max(1, int(x * scale)) for x in (EVENTS, VISITS, CASES))
    subjects = max(100, int(SUBJECTS * min(1.0, scale * 2)))
    steps = [("lookups", LOOKUPS), (f"{subjects:,} subjects", sql_subjects(subjects)),
             (f"{events:,} events, deadlines, escalations", sql_events(events)),
             (f"{visits:,} visits, findings", sql_visits(visits, subjects)),
             (f"{cases:,} cases, matters, reviews, appeals", sql_cases(cases, subjects).replace("%(user)s", str(reader.pk)))]
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(0.17)")
        # Bulk load as a restore would: the rows are consistent by construction, so no foreign-key trigger per
        # row (replica role), and the tables' own indexes built once afterwards rather than row by row.
        cur.execute("SET session_replication_role = replica")
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint)", [list(BULK_TABLES)])
        indexes = cur.fetchall()
        for name, _def in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        for name, sql in steps:
            t0 = time.perf_counter()
            cur.execute(sql)
            print(f"  generated {name} in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        for _name, definition in indexes:
            cur.execute(definition)
        cur.execute("SET session_replication_role = origin")
        print(f"  {len(indexes)} indexes built in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        cur.execute("VACUUM ANALYZE")  # what autovacuum does for a live database (index-only scans need it)
        print(f"  VACUUM ANALYZE in {time.perf_counter() - t0:.1f} s", flush=True)
        for table in ("command_center_event", "command_center_deadline", "inspections_visit", "inspections_finding",
                      "cases_case"):
            cur.execute(f"SELECT count(*) FROM {table}")
            print(f"  {table}: {cur.fetchone()[0]:,} rows")


def cold():
    """A cold start for the figures: the analytics cache emptied, a fresh database connection."""
    from django.core.cache import cache
    from django.db import connection

    cache.clear()
    connection.close()


def busiest_street_and_last_month():
    from datetime import timedelta

    from django.db.models import Count
    from django.utils import timezone

    from command_center.models import Event
    from grids.models import Area

    street_id = Event.objects.values("street_id").annotate(n=Count("pk")).order_by("-n")[0]["street_id"]
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return Area.objects.get(pk=street_id).code, last_month


def district_figures(reader):
    """What /reports/ computes for the whole district over the last 30 days, grouped by street."""
    from analytics import params
    from analytics.choices import GroupBy
    from analytics.selectors import cases, events, inspections, trends

    period = params.parse(reader, {"group_by": "street"})
    events.event_figures(reader, period)
    trends.trends(reader, params.parse(reader, {"group_by": "week"}, default_days=12 * 7), interval=GroupBy.WEEK)
    inspections.inspection_figures(reader, period)
    cases.case_figures(reader, period)


def timed(label, fn, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, captured = [], None
    for _ in range(runs):
        cold()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        captured = ctx.captured_queries
    median = statistics.median(times)
    verdict = "PASS" if median <= TARGET_S else "FAIL"
    print(f"{verdict} {label}: median {median:.2f} s of {runs} cold runs "
          f"(min {min(times):.2f}, max {max(times):.2f}; {len(captured)} queries) target ≤ {TARGET_S:.0f} s")
    t0 = time.perf_counter()
    fn()
    print(f"  then from the cache (analytics.caching): {time.perf_counter() - t0:.3f} s")
    if verdict == "FAIL":
        explain_slowest(captured)
    return median


def refresh_cost():
    """What the periodic refresh of the cached figures costs: the first run (streets' last months too), then
    a steady one (today's and the district's default view only)."""
    from analytics import caching

    cold()
    for label in ("first", "steady"):
        t0 = time.perf_counter()
        n = caching.refresh_figures()
        print(f"  refresh of the cached figures ({label}): {time.perf_counter() - t0:.1f} s for {n} answers "
              f"(every {caching.refresh_seconds():.0f} s)")


def explain_slowest(captured, top=3):
    """The slowest queries' plans: their main nodes (scans, joins, aggregates, sorts) with actual times."""
    from django.db import connection

    ranked = sorted(captured, key=lambda q: float(q["time"]), reverse=True)
    print(f"  queries took {sum(float(q['time']) for q in captured):.2f} s in all; the slowest: "
          + ", ".join(f"{float(q['time']):.2f}" for q in ranked[:10]))
    slowest = ranked[:top]
    with connection.cursor() as cur:
        for q in slowest:
            print(f"  -- {float(q['time']):.2f} s: {q['sql'][:300]}")
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
            for (line,) in cur.fetchall():
                if any(k in line for k in ("Scan", "Join", "Aggregate", "Sort", "Hash", "Loop", "Execution Time")):
                    print("    " + line[:200])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data set (1.0: 1M events)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the database in place afterwards")
    parser.add_argument("--reuse", action="store_true", help="time on the database a --keep run left (no generation)")
    args = parser.parse_args()
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    print(f"database {urlparse(url).path.lstrip('/')} on {urlparse(url).hostname}; scale {args.scale}", flush=True)
    t0 = time.perf_counter()
    from _common import setup_django

    if args.reuse:
        setup_django()
        from django.contrib.auth import get_user_model

        reader = get_user_model().objects.get(username="bench_bureau")
    else:
        recreate_database(url)
        setup_django()
        reader = build_places()
        generate(args.scale, reader)
        print(f"  generation took {time.perf_counter() - t0:.0f} s in all", flush=True)
    try:
        from analytics import monthly

        street, month = busiest_street_and_last_month()
        timed(f"monthly report of street {street} for {month}",
              lambda: monthly.monthly_report(reader, area_code=street, month=month), args.runs)
        timed("the district's figures (30 days by street, 12 weeks of trends, inspections, cases)",
              lambda: district_figures(reader), args.runs)
        refresh_cost()
    finally:
        from django.db import connection

        connection.close()
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
