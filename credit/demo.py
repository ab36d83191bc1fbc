"""Credit's part of `load_demo`: a year of facts about the demo subjects, so that about 70% are green,
20% yellow and 10% red, with histories that changed over time. Deterministic for a seed.

Facts go through credit.services.facts.post_facts (audited, idempotent by their demo source reference), a few
restaurants' fume monitors push readings through record_sensor_reading (one day or two consecutive days
over the limit), then the subjects are rescored as the nightly job would have done on a few past dates
(so the history shows colours changing, and decay) and today.
"""
import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.roles import API_CLIENT
from credit.choices import FactKind
from credit.models import CreditFact
from credit.services import facts, rescoring, sensors
from grids.models import Subject

DEFAULT_SEED = 20261123
FUME_SUBS = ("CY01", "CY03", "CY04")  # restaurants, barbecues and hot pot: the fume monitors

FINDINGS = ("消防通道堆放杂物", "油烟净化设施未按期清洗", "灭火器过期", "店外占道经营", "垃圾分类不到位",
            "燃气软管老化", "未公示营业执照", "夜间施工噪音超标", "工地围挡破损", "渣土车未冲洗")
COMPLAINTS = ("夜间噪音扰民", "油烟直排", "占道经营", "门前垃圾堆放", "违规户外广告", "施工扬尘")
VIOLATIONS = ("占道经营", "未经许可设置户外广告", "违规排放油烟", "擅自占用道路施工")

# Bands by share of subjects: (share, points budget range over the last months).
BANDS = (("green", 0.70, (0, 9)), ("yellow", 0.20, (16, 26)), ("red", 0.10, (32, 48)))


def _write(stdout, msg):
    if stdout is not None:
        stdout.write(msg)


def _band(rng):
    r, acc = rng.random(), 0.0
    for name, share, budget in BANDS:
        acc += share
        if r < acc:
            return name, budget
    return BANDS[-1][0], BANDS[-1][2]


def _facts_for(rng, budget, now):
    """A plausible mix of facts adding up to roughly `budget` points (before decay)."""
    out, total = [], 0.0
    target = rng.uniform(*budget)
    while total < target:
        kind = rng.choices(
            (FactKind.INSPECTION_FINDING, FactKind.COMPLAINT, FactKind.RECTIFICATION_OPEN,
             FactKind.RECTIFICATION_OVERDUE, FactKind.RECTIFICATION_LATE, FactKind.VIOLATION),
            weights=(40, 30, 8, 6, 8, 8))[0]
        days_ago = rng.uniform(1, 60) if budget[0] else rng.uniform(1, 330)
        fact = {"kind": kind, "occurred_at": now - timedelta(days=days_ago, minutes=rng.randint(0, 600))}
        if kind == FactKind.INSPECTION_FINDING:
            fact["points"] = float(rng.choice((1, 2, 2, 3, 4)))
            fact["source_text"] = "检查发现：" + rng.choice(FINDINGS)
            points = fact["points"]
        elif kind == FactKind.COMPLAINT:
            fact["confirmed"] = rng.random() < 0.6
            fact["source_text"] = "12345投诉：" + rng.choice(COMPLAINTS)
            points = 3 if fact["confirmed"] else 0.9
        elif kind == FactKind.VIOLATION:
            fact["leniency"] = rng.choice(("", "", "first", "minor"))
            fact["source_text"] = "行政处罚：" + rng.choice(VIOLATIONS)
            points = 3 if fact["leniency"] else 10
        else:
            fact["source_text"] = {"rectification_open": "限期整改中", "rectification_overdue": "整改逾期未完成",
                                   "rectification_late": "整改超期完成"}[kind] + "：" + rng.choice(FINDINGS)
            points = {"rectification_open": 3, "rectification_overdue": 7, "rectification_late": 4}[kind]
        if budget[0] == 0 and total + points > budget[1]:
            break  # green subjects stay under the yellow threshold
        out.append(fact)
        total += points
    return out


def load(seed: int = DEFAULT_SEED, *, stdout=None, results=None, large=False, **_ignored) -> dict:
    _write(stdout, "红黄绿信用演示数据 …")
    rng = random.Random(seed)
    now = timezone.now().replace(second=0, microsecond=0)
    subjects = list(Subject.objects.select_related("category").order_by("id").values_list("id", "category__code"))
    if large:
        subjects = subjects[:5000]  # the large demo's extra subjects start green
    bands = {"green": 0, "yellow": 0, "red": 0}
    fume, items = [], []
    for subject_id, category_code in subjects:
        band, budget = _band(rng)
        bands[band] += 1
        for n, fact in enumerate(_facts_for(rng, budget, now)):
            items.append({"subject": subject_id, "source_app": "demo", "source_model": "record",
                          "source_pk": f"{subject_id}-{n}", **fact})
        if category_code in FUME_SUBS and rng.random() < 0.06:
            fume.append((subject_id, rng.choice((1, 2, 2))))
    posted = facts.post_facts(items, rescore=False)  # one batch; rescored below

    readings = 0
    platform = get_user_model().objects.filter(groups__name=API_CLIENT, is_active=True).order_by("id").first()
    if platform is not None:
        for subject_id, days in fume:
            subject = Subject.objects.get(pk=subject_id)
            start = rng.randint(2, 12)
            for d in range(days):
                for hour, value in ((11, round(rng.uniform(2.2, 4.5), 2)), (18, round(rng.uniform(0.6, 1.8), 2))):
                    when = timezone.localtime(now - timedelta(days=start + d)).replace(hour=hour, minute=30)
                    sensors.record_sensor_reading(platform, device_id=f"FUME-{subject_id}", subject=subject,
                                                  metric="fume", value=value, measured_at=when)
                    readings += 1

    # The nightly job, replayed: colours at a few past dates, then today.
    for days_back in (120, 60, 30, 7):
        rescoring.rescore_all(now=now - timedelta(days=days_back))
    stats = rescoring.rescore_all(now=now)
    return {"facts": CreditFact.objects.filter(source_app__in=("demo", "credit")).count(), "posted": posted,
            "sensor_readings": readings, "planned_bands": bands, "scored": stats["subjects"]}
