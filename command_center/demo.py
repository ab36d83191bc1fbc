"""The command center's part of `load_demo`: SLA policies for each street and a few live events.

Dispatch rules: the district defaults (red and orange automatic, yellow and blue to the street's desk),
and the demo team leaders signed on at their streets' desks for a 12-hour shift, so their streets keep
manual dispatch while the others fall back to automatic (the timeline says so).

Every problem type can be dispatched in every street: where fewer than two officers of a street are
capable of a type's matter at the rank its colour needs, officers of that rank are authorised for the
matter (`authorise_for_problem_types`).

Each street gets its own timed-response policy for orange and red events, from the articles' presets
(青山湖 1510, 翠苑 1358, 河庄 20 minutes, the others cycling through 1315 / 1510 / 1358); yellow and blue
events use the district defaults (seeded by migration). Then a dozen or two events are reported through
the intake service at subjects' locations (mixed sources and problem types), a few of them dispatched,
signed for or on site, so the dashboard has something to show; their clocks run from load time.

Review rules: the district defaults (orange and red always, yellow and blue when a citizen reported it);
a few fresh events are taken through the review (waiting, returned for rework, approved) and one to
co-governance deliberation with a meeting held.
"""
import random
from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from command_center import dispatch as dispatching
from command_center import sla
from command_center.choices import Source, Status
from command_center.models import Event
from command_center.services import deliberation, intake, policies, review, transitions
from core import audit
from core.exceptions import DomainError
from core.roles import TEAM_LEADER
from grids.choices import AreaKind, DutyStatus
from grids.models import Area, Officer, Subject

User = get_user_model()
DEFAULT_SEED = 20261123
NAMED_PRESETS = (("青山湖", "1510"), ("翠苑", "1358"), ("河庄", "20"))
CYCLE = ("1315", "1510", "1358")
DESCRIPTIONS = {
    Source.CITIZEN: "群众通过“民呼我为”小程序反映：{pt}，请尽快处理。",
    Source.GRID_WORKER: "网格员巡查发现{pt}。",
    Source.COLLECTOR: "城管信息采集员上报：{pt}。",
    Source.SENSOR: "物联感知设备告警：{pt}。",
    Source.AI_CAMERA: "AI视频识别：疑似{pt}。",
    Source.HOTLINE_12345: "12345热线工单：市民来电反映{pt}。",
}


def _preset_for(street: Area, i: int) -> str:
    for word, code in NAMED_PRESETS:
        if word in street.name:
            return code
    return CYCLE[i % len(CYCLE)]


def _write(stdout, text):
    if stdout is not None:
        stdout.write(text)


CAPABLE_PER_STREET = 2


def authorise_for_problem_types(problem_types, streets, *, per_street: int = CAPABLE_PER_STREET) -> int:
    """Every problem type of the demo catalog can be dispatched in every street: where fewer than
    `per_street` officers of the street's teams are capable of the type's matter (the owning department
    as home or skill department, or the matter among their skill matter codes) at the rank its default
    severity needs, the street's officers of that rank are authorised for the matter (its code added to
    their skill matter codes), on-duty ones first, then by rank and id. (Without it a red 消防通道堵塞
    report, a matter of the fire brigade no squad officer held, could never be dispatched.) Audited as
    one record per officer. Returns how many officers were authorised for something."""
    officers = list(Officer.objects.filter(team__street__in=streets).select_related("team")
                    .prefetch_related("skill_departments").order_by("id"))
    skills = {o.pk: {d.pk for d in o.skill_departments.all()} for o in officers}
    granted = {}
    for street in streets:
        mine = sorted((o for o in officers if o.team.street_id == street.pk),
                      key=lambda o: (o.duty_status == DutyStatus.OFF_DUTY, -o.rank, o.pk))
        for pt in problem_types:
            owner = dispatching.owner_department_id(pt.matter_code)
            if owner is None:
                continue  # not in the published catalog: intake refuses the type anyway
            fit = [o for o in mine if o.rank >= dispatching.min_rank_for(pt.default_severity)]
            capable = [o for o in fit if o.home_department_id == owner or owner in skills[o.pk]
                       or pt.matter_code in o.skill_matter_codes]
            for officer in [o for o in fit if o not in capable][: max(0, per_street - len(capable))]:
                officer.skill_matter_codes = [*officer.skill_matter_codes, pt.matter_code]
                granted.setdefault(officer.pk, (officer, []))[1].append(pt.matter_code)
    Officer.objects.bulk_update([o for o, _codes in granted.values()], ["skill_matter_codes"], batch_size=500)
    for officer, codes in granted.values():
        audit.record(None, "officer.skills_granted", officer, changes={"skill_matter_codes": [None, codes]})
    return len(granted)


def load(seed: int = DEFAULT_SEED, *, stdout=None, results=None, large=False, **_ignored) -> dict:
    from enforcement.models import ProblemType

    _write(stdout, "指挥中心演示数据 …")
    rng = random.Random(seed)
    streets = list(Area.objects.filter(kind=AreaKind.STREET).order_by("code").defer("boundary"))
    saved_policies = 0
    for i, street in enumerate(streets):
        preset = sla.PRESETS[_preset_for(street, i)]
        for severity in ("orange", "red"):
            policies.save_policy(None, street=street, severity=severity, stages=preset["stages"],
                                 name=f"{street.name} {preset['name']}")
            saved_policies += 1

    rules = dispatching.install_default_rules()
    signed_on = 0
    for user in User.objects.filter(groups__name=TEAM_LEADER, is_active=True).order_by("id"):
        if dispatching.current_shift(user) is None:
            dispatching.sign_on(user, hours=12)
            signed_on += 1

    problem_types = list(ProblemType.objects.filter(active=True).order_by("code"))
    authorised = authorise_for_problem_types(problem_types, streets)
    subject_points = list(Subject.objects.order_by("id").values_list("lat", "lng")[:5000])
    events, skipped = [], 0
    if problem_types and subject_points:
        sources = list(DESCRIPTIONS)
        for n in range(24 if not large else 120):
            pt = problem_types[n % len(problem_types)]
            lat, lng = rng.choice(subject_points)
            source = sources[n % len(sources)]
            data = {"source": source, "problem_type": pt.code, "lat": lat, "lng": lng,
                    "description": DESCRIPTIONS[source].format(pt=pt.name), "external_id": f"DEMO-{n + 1:04d}"}
            if source in (Source.CITIZEN, Source.HOTLINE_12345):
                data.update(reporter_name=rng.choice(["王女士", "李先生", "陈阿姨", "张师傅"]),
                            reporter_phone=f"139{rng.randrange(10**8):08d}")
            try:
                with transaction.atomic():
                    event, _ = intake.intake_event(None, data)
            except DomainError:
                skipped += 1  # e.g. a problem type whose matter is missing from the published catalog
                continue
            events.append(event)
        # Move some along, with officers of the responsible team who are on duty.
        for event in events[: len(events) // 2]:
            on_duty = list(Officer.objects.filter(team_id=event.team_id).exclude(duty_status=DutyStatus.OFF_DUTY)
                           .order_by("id")) if event.team_id else []
            if not on_duty:
                continue
            officer = rng.choice(on_duty)
            step = rng.randrange(3)
            event.refresh_from_db(fields=["status", "officer", "version"])
            if event.officer_id is not None:
                continue  # already assigned
            event = transitions.dispatch(None, event, officer)
            if step >= 1:
                event = transitions.accept(None, event)
            if step >= 2:
                event = transitions.arrive(None, event)
    review_rules = review.install_default_rules()
    fresh = Event.objects.filter(pk__in=[e.pk for e in events], status=Status.NEW, officer__isnull=True,
                                 team__isnull=False).order_by("id")
    reviewed = _review_and_deliberate(rng, [e for e in fresh if review.requires_review(e)])
    by_status = Counter(Event.objects.filter(pk__in=[e.pk for e in events]).values_list("status", flat=True))
    return {"sla_policies": saved_policies, "dispatch_rules": rules, "desk_signed_on": signed_on,
            "officers_authorised": authorised, "events": len(events), "events_skipped": skipped,
            "review_rules": review_rules, "reviewed": reviewed, "events_by_status": dict(sorted(by_status.items()))}


MEETING_PEOPLE = [{"name": "王阿姨", "role": "居民代表"}, {"name": "陈老板", "role": "商户"},
                  {"name": "社区书记", "role": "社区"}, {"name": "执法队中队长", "role": "综合执法队"}]


def _on_site(rng, event):
    on_duty = list(Officer.objects.filter(team_id=event.team_id).order_by("id"))
    if not on_duty:
        return None
    event = transitions.dispatch(None, event, rng.choice(on_duty))
    event = transitions.accept(None, event)
    return transitions.arrive(None, event)


def _review_and_deliberate(rng, fresh: list[Event]) -> dict:
    """A few events through the review: two waiting for it, one returned for rework, one approved; and one
    at co-governance deliberation with a meeting held (the leaders' queue and the files have something)."""
    steps = ["under_review", "under_review", "returned", "approved", "deliberation"]
    done = Counter()
    for step, event in zip(steps, fresh):
        event = _on_site(rng, event)
        if event is None:
            continue
        if step == "deliberation":
            event = transitions.deliberate(None, event, "夜间经营噪声与居民休息的矛盾，需多方协商",
                                           participants=MEETING_PEOPLE)
            deliberation.add_meeting(None, event, held_at=timezone.now() - timedelta(hours=3), place="社区红茶议事厅",
                                     attendees=MEETING_PEOPLE, minutes="商户同意22点后停止外摆，社区每周巡查一次，下次会议确认效果。")
            done[step] += 1
            continue
        event = transitions.resolve(None, event, "已到现场处置，责令当事人整改并拍照留证")
        if step == "returned":
            review.return_for_rework(None, event, "处置照片未体现整改效果，请补拍")
        elif step == "approved":
            review.approve(None, event, note="处置到位")
        done[step] += 1
    return dict(done)
