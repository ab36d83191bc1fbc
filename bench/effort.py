"""Effort list benchmark (issue 6): `GET /api/v1/credit/effort/` — who is due this month and why — for one
street of 25,000 subjects (target ≤ 2 s, it is asked interactively) and for a district of 100,000 in
4 streets (target ≤ 10 s, the planner asks once a month).

The project's own settings on a throwaway SQLite file (or DATABASE_URL), real migrations, and the real
selector `credit.effort.due_in()` (what the endpoint calls), as a district-wide dispatcher. Subjects are
spread 70% green (a tenth of them never scored), 20% yellow, 10% red, dense enough (~10 m apart) that
every red subject has neighbours within the default 50 m; every red has a colour-history row and a
fifth of the yellow ones a finished rectification.

    .venv/bin/python bench/effort.py [--subjects 100000] [--runs 3] [--seed 1]

A measurement: it exits 0 whether the targets are met or not (the PASS/FAIL lines say which).
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import area, setup_django  # noqa: E402

TARGET_STREET_S = 2.0
TARGET_DISTRICT_S = 10.0


def build(rng: random.Random, n_subjects: int):
    from django.utils import timezone

    from core import roles
    from credit.models import CreditFact, CreditHistory, CreditScore
    from grids import accounts
    from grids.models import Subject, SubjectCategory

    t0 = time.perf_counter()
    now = timezone.now()
    district = area("ED", "ED", "district")
    streets = [area(f"ES{i}", f"ES{i}", "street", district, tier="urban") for i in range(4)]
    grids = [area(f"EG{i}-{j}", f"EG{i}-{j}", "grid", s) for i, s in enumerate(streets) for j in range(25)]
    cat = SubjectCategory.objects.create(code="E-REST", name="餐馆")
    per_grid = max(1, n_subjects // len(grids))
    Subject.objects.bulk_create(
        (Subject(name=f"对象{i}", category=cat, grid=grids[min(i // per_grid, len(grids) - 1)],
                 lat=30.0 + (i % 500) * 9e-5, lng=120.0 + (i // 500) * 1e-4) for i in range(n_subjects)),
        batch_size=5000)
    ids = list(Subject.objects.order_by("id").values_list("id", flat=True))
    scores, history, facts = [], [], []
    for sid in ids:
        r = rng.random()
        color = "red" if r < 0.1 else "yellow" if r < 0.3 else "green"
        if color == "green" and rng.random() < 0.1:
            continue  # never scored: counts as green
        scores.append(CreditScore(subject_id=sid, color=color, computed_color=color, computed_at=now,
                                  score={"green": 3, "yellow": 18, "red": 35}[color]))
        if color == "red":
            history.append(CreditHistory(subject_id=sid, from_color="yellow", to_color="red", score=35, cause="fact_posted",
                                         changed_at=now - timedelta(days=rng.randint(1, 200))))
        if color == "yellow" and rng.random() < 0.2:
            facts.append(CreditFact(subject_id=sid, kind="rectification_open", occurred_at=now - timedelta(days=40),
                                    withdrawn_at=now - timedelta(days=rng.randint(1, 30)), withdrawn_reason="已整改",
                                    source_app="bench", source_model="rectification", source_pk=str(sid)))
    CreditScore.objects.bulk_create(scores, batch_size=5000)
    CreditHistory.objects.bulk_create(history, batch_size=5000)
    CreditFact.objects.bulk_create(facts, batch_size=5000)
    user, _ = accounts.add_user(None, username="bench-dispatcher", role=roles.DISPATCHER, area_codes=["ED"])
    return {"district": district, "street": streets[0], "user": user, "subjects": len(ids),
            "build_s": time.perf_counter() - t0}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmpdir:
        setup_django(tmpdir, "bench_effort")
        from credit import effort

        data = build(random.Random(args.seed), args.subjects)
        print(f"built {data['subjects']:,} subjects in 4 streets in {data['build_s']:.1f} s")
        today = date.today()
        first, last = effort.parse_month(f"{today:%Y-%m}")
        results = {}
        for label, area, target in (("street", data["street"], TARGET_STREET_S),
                                    ("district", data["district"], TARGET_DISTRICT_S)):
            times, cpu = [], []
            for _ in range(args.runs):
                user = type(data["user"]).objects.get(pk=data["user"].pk)  # no cached areas or roles
                t, c = time.perf_counter(), time.process_time()
                items, summary = effort.due_in(user, area, first, last)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            best, median = min(times), statistics.median(times)
            results[label] = median <= target
            print(f"{label}: {summary['subjects']:,} subjects, {len(items):,} due items {summary['by_rule']}, "
                  f"{summary['green_not_inspected']:,} green not inspected")
            print(f"  due_in: median {median:.2f} s, best {best:.2f} s over {args.runs} runs (this process's CPU: "
                  f"median {statistics.median(cpu):.2f} s; load average {os.getloadavg()[0]:.1f}) "
                  f"(target ≤ {target:g} s) {'PASS' if results[label] else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
