"""Demo part of inspections (load_demo): last month's approved plan of one street with completed visits
(the 42-item construction-site checklist on the construction sites), findings rectified on the spot and
by deadline, some overdue (the sweep raises their command-center events), and this month's draft plan."""
import random
from datetime import timedelta

from django.utils import timezone

from grids.demo import DEFAULT_SEED
from grids.models import Area, Officer
from inspections import selectors, services
from inspections.choices import RectificationKind, Result
from inspections.models import Finding, InspectionPlan, Visit

COMPLETED_VISITS = 24


def _write(stdout, msg):
    if stdout is not None:
        stdout.write(msg)


def load(seed: int = DEFAULT_SEED, *, stdout=None, results=None, large=False, **_ignored) -> dict:
    _write(stdout, "综合查一次演示数据 …")
    rng = random.Random(seed)
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    street = (Area.objects.filter(kind="street", teams__officers__isnull=False).defer("boundary")
              .distinct().order_by("code").first())
    if street is None:
        return {}
    past = services._draft(None, street, last_month, [], since=last_month)
    services.approve_plan(None, past.pk)
    visits = list(Visit.objects.filter(plan=past).select_related("subject").order_by("date", "route_order"))
    sites = [v for v in visits if v.item_count >= 42]  # the construction-site checklist (42 items)
    others = [v for v in visits if 0 < v.item_count < 42]
    chosen = (sites[:COMPLETED_VISITS // 2] + others)[:COMPLETED_VISITS]
    counts = {"on_the_spot": 0, "deadline": 0, "rectified": 0, "overdue": 0, "findings": 0}
    system = services._system_user()
    for n, visit in enumerate(chosen):
        items = selectors.visit_items(system, visit)
        for i, item in enumerate(items):
            roll = rng.random()
            if roll < 0.85:
                result, rect, due = Result.PASS, "", None
            elif roll < 0.92:
                result, rect, due = Result.FAIL, RectificationKind.ON_THE_SPOT, None
                counts["on_the_spot"] += 1
            else:
                result, rect = Result.FAIL, RectificationKind.DEADLINE
                # Half due already (some overdue below), half still running.
                due = None if rng.random() < 0.5 else today + timedelta(days=rng.randint(2, 10))
                counts["deadline"] += 1
            services.record_finding(None, visit.pk, client_id=f"demo-{visit.pk}-{i}", item=item["code"],
                                    result=result, note="" if result == Result.PASS else "现场发现问题",
                                    rectification=rect, comply_by=due)
            counts["findings"] += 1
        if n % 5 == 4:
            services.complete_visit(None, visit.pk, refused=True, client_id=f"demo-done-{visit.pk}")
        else:
            services.complete_visit(None, visit.pk, representative_name="负责人",
                                    signature=_signature_png(), client_id=f"demo-done-{visit.pk}")
    # Some deadline rectifications still running are confirmed done on re-inspection (on time).
    running = Finding.objects.filter(visit__plan=past, rectification=RectificationKind.DEADLINE,
                                     comply_by__gte=today).order_by("id")
    for finding in running[: max(1, running.count() // 2)]:
        services.reinspect(None, finding.visit_id, finding=finding.client_id, rectified=True, note="复查已整改")
        counts["rectified"] += 1
    counts["overdue"] = services.sweep_overdue(today)
    draft = services._draft(None, street, this_month, [], since=today)
    figures = selectors.plan_figures(draft)
    out = {"street": street.code, "last_month_visits": len(visits), "completed_visits": len(chosen), **counts,
           "draft_visits_planned": figures["visits_planned"],
           "draft_separate_visits_replaced": figures["separate_visits_replaced"],
           "draft_reduction_percent": figures["reduction_percent"],
           "plans": InspectionPlan.objects.count(), "officers": Officer.objects.filter(team__street=street).count()}
    _write(stdout, f"  {street.name}：上月计划 {len(visits)} 次检查（已完成 {len(chosen)}），本月草稿 "
                   f"{figures['visits_planned']} 次，替代分别检查 {figures['separate_visits_replaced']} 次，"
                   f"减少 {figures['reduction_percent']}%")
    return out


def _signature_png() -> str:
    import base64
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (240, 90), "white")
    ImageDraw.Draw(img).line([(10, 60), (60, 20), (110, 70), (170, 25), (230, 55)], fill="black", width=3)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
