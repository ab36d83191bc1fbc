"""python manage.py simulate --rate N [--duration S] [--seed X]

Keeps the dashboard alive: reports realistic events through the intake service (mixed sources, problem
types of the published catalog, severities, points inside the district's grids, sometimes at a subject)
at N a second, and walks the on-duty officers about their streets through the grids service that
records GPS pings. Everything goes through the same services as real traffic (routing, SLA clock,
dispatch, push, audit). Ctrl-C stops it cleanly; a running count is printed as it goes.
"""
import math
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from command_center import demo
from command_center.choices import Severity, Source
from command_center.services import intake
from command_center.walk import OfficerWalk, offset
from core.exceptions import DomainError
from enforcement import selectors as enforcement_selectors
from grids.choices import AreaKind, SubjectStatus
from grids.demo_geometry import random_point_in
from grids.models import Area, Subject

# How often each source reports, roughly as a district's center sees them (hotline and citizens lead).
SOURCE_WEIGHTS = {
    Source.HOTLINE_12345: 22, Source.CITIZEN: 20, Source.GRID_WORKER: 20, Source.COLLECTOR: 12,
    Source.AI_CAMERA: 12, Source.SENSOR: 8, Source.INSPECTION: 3, Source.DRONE: 2, Source.PLATFORM: 1,
}
DESCRIPTIONS = {
    **demo.DESCRIPTIONS,
    Source.DRONE: "无人机巡查发现疑似{pt}。",
    Source.INSPECTION: "执法检查中发现{pt}。",
    Source.PLATFORM: "基层治理四平台转办：{pt}。",
}
REPORTERS = ("王女士", "李先生", "陈阿姨", "张师傅", "刘同学", "赵先生")
# An explicit colour on one report in five (a sensor over its limit, a caller who sounds urgent…).
SEVERITY_OVERRIDE_SHARE = 0.2
SEVERITY_WEIGHTS = {Severity.BLUE: 4, Severity.YELLOW: 4, Severity.ORANGE: 2, Severity.RED: 1}
# Reports about a subject are placed within this many metres of it (inside intake's 30 m search).
SUBJECT_JITTER_M = 8


class Simulator:
    """One simulation run: what to report, where, and who walks where. `rng` makes the choices (not the
    timing) reproducible."""

    def __init__(self, seed: int | None, *, subject_share: float = 0.3):
        self.rng = random.Random(seed)
        self.run_id = timezone.now().strftime("%Y%m%d%H%M%S")
        self.subject_share = subject_share
        published = enforcement_selectors.matters().values("code")
        self.problem_types = list(enforcement_selectors.problem_types().filter(active=True, matter_code__in=published)
                                  .order_by("code"))
        self.grids = [(g, g.boundary) for g in Area.objects.filter(kind=AreaKind.GRID).order_by("code") if g.boundary]
        subjects = Subject.objects.filter(status=SubjectStatus.ACTIVE).values_list("id", "lat", "lng", "grid_id")
        self.subjects_by_grid = {}
        for sid, lat, lng, grid_id in subjects:
            self.subjects_by_grid.setdefault(grid_id, []).append((sid, lat, lng))
        self.sources = list(SOURCE_WEIGHTS)
        self.source_weights = list(SOURCE_WEIGHTS.values())
        self.sequence = self.events = self.skipped = 0
        self.by_source = {}
        self.last_error = ""
        self.walk = OfficerWalk(self.rng)

    # --- events -------------------------------------------------------------------------------

    def ready(self) -> str | None:
        if not self.problem_types:
            return _("已发布的事项清单中没有可用的问题类型（先运行 load_demo）。")
        if not self.grids:
            return _("没有网格边界（先运行 load_demo）。")
        return None

    def next_report(self) -> dict:
        rng = self.rng
        pt = rng.choice(self.problem_types)
        source = rng.choices(self.sources, weights=self.source_weights)[0]
        grid, boundary = rng.choice(self.grids)
        near = self.subjects_by_grid.get(grid.pk)
        if near and (pt.about_subject or rng.random() < self.subject_share):
            _sid, lat, lng = rng.choice(near)
            lat, lng = offset(lat, lng, rng.uniform(0, SUBJECT_JITTER_M), rng.uniform(0, 360))
        else:
            lat, lng = random_point_in(boundary, rng)
        self.sequence += 1
        data = {
            "source": source, "problem_type": pt.code, "lat": round(lat, 6), "lng": round(lng, 6),
            "description": DESCRIPTIONS.get(source, "{pt}").format(pt=pt.name),
            "external_id": f"SIM-{self.run_id}-{self.sequence:06d}",
        }
        if rng.random() < SEVERITY_OVERRIDE_SHARE:
            data["severity"] = rng.choices(list(SEVERITY_WEIGHTS), weights=list(SEVERITY_WEIGHTS.values()))[0]
        if source in (Source.CITIZEN, Source.HOTLINE_12345):
            data.update(reporter_name=rng.choice(REPORTERS), reporter_phone=f"139{rng.randrange(10**8):08d}")
        return data

    def report_one(self):
        data = self.next_report()
        try:
            intake.intake_event(None, data)
        except DomainError as exc:
            # e.g. a point on a grid that no street holds the matter for: intake refuses it, as it would
            # refuse a real report. Counted, and the run goes on.
            self.skipped += 1
            self.last_error = str(exc)[:200]
            return
        self.events += 1
        self.by_source[data["source"]] = self.by_source.get(data["source"], 0) + 1

    # --- officers (the walk: command_center.walk) ---------------------------------------------

    def move_some(self, share: float):
        self.walk.move_some(share)

    @property
    def pings(self) -> int:
        return self.walk.pings

    @property
    def ping_failures(self) -> int:
        return self.walk.ping_failures

    @property
    def officer_count(self) -> int:
        return self.walk.officer_count


class Command(BaseCommand):
    help = "Feed realistic events at --rate per second and move on-duty officers, so the dashboard is alive (Ctrl-C stops)."

    def add_arguments(self, parser):
        parser.add_argument("--rate", type=float, default=1.0, help="events per second (default 1)")
        parser.add_argument("--duration", type=float, default=0, help="seconds to run (default: until Ctrl-C)")
        parser.add_argument("--seed", type=int, default=None, help="makes the choices reproducible")
        parser.add_argument("--move-every", type=float, default=10.0,
                            help="each on-duty officer takes a step this often, in seconds (default 10; 0 = never)")
        parser.add_argument("--report-every", type=float, default=5.0, help="print the running count this often (s)")

    def handle(self, *args, rate, duration, seed, move_every, report_every, **options):
        if not (0 < rate <= 1000) or not math.isfinite(rate):
            raise CommandError(_("--rate 必须大于 0 且不超过 1000。"))
        if duration < 0 or move_every < 0 or report_every <= 0:
            raise CommandError(_("--duration、--move-every 不能为负数，--report-every 必须大于 0。"))
        sim = Simulator(seed)
        problem = sim.ready()
        if problem:
            raise CommandError(problem)
        self.stdout.write(_("模拟中：每秒 %(rate)g 个事件%(until)s，按 Ctrl-C 停止。") % {
            "rate": rate, "until": _("，持续 %(s)g 秒") % {"s": duration} if duration else ""})
        started = time.monotonic()
        interval = 1.0 / rate
        next_event = next_move = started
        next_report = started + report_every
        end = started + duration if duration else math.inf
        try:
            while True:
                now = time.monotonic()
                if now >= end:
                    break
                # Officers and the count get their turn even when reporting falls behind the rate.
                if move_every and now >= next_move:
                    sim.move_some(min(1.0, 1.0 / move_every))  # one tick a second moves 1/move_every of them
                    next_move = max(next_move + 1.0, now)
                if now >= next_report:
                    self._progress(sim, now - started)
                    next_report = max(next_report + report_every, now)
                if now >= next_event:
                    sim.report_one()
                    next_event += interval
                    if now - next_event > 1.0:
                        next_event = now  # more than a second behind: the machine is the limit, don't burst
                time.sleep(max(0.0, min(next_event, next_move if move_every else math.inf, next_report, end)
                               - time.monotonic()))
        except KeyboardInterrupt:
            self.stdout.write("")
        self._progress(sim, time.monotonic() - started, final=True)

    def _progress(self, sim: Simulator, elapsed: float, final=False):
        line = _("[%(t).0f 秒] 事件 %(n)d（未受理 %(skip)d，%(r).1f/秒）· 队员 %(o)d 人 · 定位 %(p)d") % {
            "t": elapsed, "n": sim.events, "skip": sim.skipped, "r": sim.events / elapsed if elapsed else 0.0,
            "o": sim.officer_count, "p": sim.pings,
        }
        if final:
            sources = "，".join(f"{Source(k).label} {v}" for k, v in sorted(sim.by_source.items(), key=lambda kv: -kv[1]))
            line = _("完成。") + line + (f"\n{sources}" if sources else "")
            last_error = sim.walk.last_error if sim.ping_failures and not sim.skipped else sim.last_error
            if last_error and (sim.skipped or sim.ping_failures):
                line += "\n" + _("最近一次失败：") + last_error
        self.stdout.write(line)
        self.stdout.flush()
