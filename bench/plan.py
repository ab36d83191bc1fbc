"""Monthly inspection plan benchmark (issue 15): `inspections.services.draft_plan` for one street of
50,000 subjects and 300 officers (target ≤ 60 s on PostgreSQL), printing the visits planned, the
separate visits they replace and the reduction.

The project's own settings on a throwaway SQLite file (or DATABASE_URL: a scratch PostgreSQL database),
real migrations. Subjects: 70% green, 20% yellow, 10% red, in 50 grids of one street, five categories
whose checklists hold items of two to four of six departments; 300 officers of those departments in the
street's team. The plan is next month's, drafted as the system (every subject visible).

    .venv/bin/python bench/plan.py [--subjects 50000] [--officers 300] [--seed 1]

A measurement: it exits 0 whether the target is met or not (the PASS/FAIL line says which).
"""
import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import area, setup_django  # noqa: E402

TARGET_S = 60.0


def build(rng: random.Random, n_subjects: int, n_officers: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from credit.models import CreditScore
    from enforcement.models import Checklist, ChecklistItem
    from grids.models import Department, Officer, Subject, SubjectCategory, Team

    t0 = time.perf_counter()
    district = area("PD", "PD", "district")
    street = area("PS1", "PS1", "street", district, tier="urban")
    grids = [area(f"PG{j}", f"PG{j}", "grid", street) for j in range(50)]
    depts = [Department.objects.create(code=f"PDEP{i}", name=f"部门{i}") for i in range(6)]
    cats = [SubjectCategory.objects.create(code=f"PCAT{i}", name=f"类别{i}") for i in range(5)]
    for i, cat in enumerate(cats):
        cl = Checklist.objects.create(code=f"PCL{i}", name=f"清单{i}", category=cat)
        chosen = rng.sample(depts, 2 + i % 3)
        ChecklistItem.objects.bulk_create(
            ChecklistItem(checklist=cl, code=f"P{i}-{n}", matter_code=f"M{i}-{n}", department=chosen[n % len(chosen)],
                          text=f"检查事项{i}-{n}", weight=1 + n % 5, order=n) for n in range(6 + 4 * i))
    per_grid = n_subjects // len(grids)
    Subject.objects.bulk_create(
        (Subject(name=f"对象{i}", category=cats[i % 5], grid=grids[min(i // per_grid, len(grids) - 1)],
                 lat=30.0 + (i % 250) * 4e-4, lng=120.0 + (i // 250) * 4e-4) for i in range(n_subjects)),
        batch_size=5000)
    now = timezone.now()
    scores = []
    for sid in Subject.objects.order_by("id").values_list("id", flat=True):
        r = rng.random()
        color = "red" if r < 0.1 else "yellow" if r < 0.3 else "green"
        scores.append(CreditScore(subject_id=sid, color=color, computed_color=color, computed_at=now, score=0))
    CreditScore.objects.bulk_create(scores, batch_size=5000)
    team = Team.objects.create(code="PT1", name="PS1 队", street=street)
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"pofficer{i}") for i in range(n_officers)])
    users = list(User.objects.filter(username__startswith="pofficer").order_by("id"))
    Officer.objects.bulk_create(Officer(user=u, name=f"队员{i}", badge_no=f"PB{i:05d}", team=team,
                                        home_department=depts[i % 6]) for i, u in enumerate(users))
    print(f"built {n_subjects:,} subjects, {n_officers} officers in {time.perf_counter() - t0:.1f} s")
    return street


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=50_000)
    parser.add_argument("--officers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp, "plan")
        from django.db import connection
        from django.utils import timezone

        from inspections import selectors, services
        from inspections.models import Visit

        street = build(random.Random(args.seed), args.subjects, args.officers)
        month = services.next_month(timezone.localdate())
        t0 = time.perf_counter()
        plan = services._draft(None, street, month, [], since=month)
        elapsed = time.perf_counter() - t0
        figures = selectors.plan_figures(plan)
        print(f"database: {connection.vendor}; street of {args.subjects:,} subjects, {args.officers} officers, "
              f"month {month:%Y-%m}, daily cap {services.daily_cap()}")
        print(f"visits planned:            {figures['visits_planned']:,}")
        print(f"separate visits replaced:  {figures['separate_visits_replaced']:,}")
        print(f"reduction:                 {figures['reduction_percent']} %")
        print(f"due but not scheduled (officers full): {len(plan.unscheduled):,}")
        print(f"working days: {len(services.working_days(month))}; visits with officers: "
              f"{Visit.objects.filter(plan=plan).count():,}")
        print(f"draft_plan: {elapsed:.1f} s (target ≤ {TARGET_S:.0f} s) {'PASS' if elapsed <= TARGET_S else 'FAIL'}")


if __name__ == "__main__":
    main()
