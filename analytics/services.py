"""Analytics' own writes: hot-area warnings (热点预警) raised, refreshed, acknowledged and expired.

check_hotspots() runs every few minutes (Celery beat in production, the embedded ticker in `make run`):
for each grid and problem type it counts the events of the last window and tests the count against the
grid's own baseline (analytics.detector). A hot pair with no open warning raises one (pushed live as
`warning.raised` through the outbox, so a process killed after the commit still sends it); an open warning
whose count has cooled expires (pushed as `warning.expired` the same way; an acknowledgement as
`warning.acknowledged`). The database allows one open warning per grid and type, so two checks
running at once cannot raise the same episode twice."""
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import detector
from analytics.choices import OPEN_WARNING_STATUSES, WarningStatus
from analytics.models import HotspotWarning
from command_center.models import Event
from core import audit, outbox
from core.exceptions import Conflict, Forbidden, ValidationFailed
from core.roles import BUREAU_STAFF, DISPATCHER, TEAM_LEADER, has_role
from grids import selectors as grid_selectors
from grids.models import Area

HOTSPOT_CHECK_SECONDS = float(getattr(settings, "ANALYTICS_HOTSPOT_CHECK_SECONDS", 300))
WARNING_RAISED = "analytics.warning_raised"  # the outbox topics; the push handlers are registered in apps.ready
WARNING_EXPIRED = "analytics.warning_expired"
WARNING_ACKNOWLEDGED = "analytics.warning_acknowledged"


def hotspot_test() -> detector.HotspotTest:
    return detector.HotspotTest(
        alpha=float(getattr(settings, "ANALYTICS_HOTSPOT_ALPHA", 0.0001)),
        min_count=int(getattr(settings, "ANALYTICS_HOTSPOT_MIN_COUNT", 3)),
    )


def window() -> timedelta:
    return timedelta(hours=float(getattr(settings, "ANALYTICS_HOTSPOT_WINDOW_HOURS", 24 * 7)))


def baseline_windows() -> int:
    return int(getattr(settings, "ANALYTICS_HOTSPOT_BASELINE_WINDOWS", 8))


def _counts(start, end) -> dict[tuple[int, str], int]:
    rows = (Event.objects.filter(created_at__gte=start, created_at__lt=end, grid__isnull=False)
            .values("grid_id", "problem_type_code").annotate(n=Count("pk")))
    return {(r["grid_id"], r["problem_type_code"]): r["n"] for r in rows}


def check_hotspots(now=None) -> dict:
    """Raise, refresh and expire warnings as of `now`. Returns what it did (for the task's log and tests):
    {"raised": [ids], "expired": [ids], "open": n}."""
    now = now or timezone.now()
    test, length, history = hotspot_test(), window(), baseline_windows()
    start = now - length
    current = _counts(start, now)
    past = _counts(start - history * length, start)
    raised, expired = [], []
    open_warnings = {(w.grid_id, w.problem_type_code): w
                     for w in HotspotWarning.objects.filter(status__in=OPEN_WARNING_STATUSES)}
    for (grid_id, code), count in current.items():
        before = past.get((grid_id, code), 0)
        hot, p = detector.is_hot(count, before, history, test)
        existing = open_warnings.get((grid_id, code))
        if existing is not None:
            if count > existing.peak_count:
                HotspotWarning.objects.filter(pk=existing.pk).update(peak_count=count)
            continue
        if hot:
            warning = _raise(grid_id, code, count=count, mean=detector.baseline_mean(before, history), p=p,
                             start=start, now=now)
            if warning is not None:
                raised.append(warning.pk)
    for (grid_id, code), warning in open_warnings.items():
        count = current.get((grid_id, code), 0)
        if detector.has_cooled(count, past.get((grid_id, code), 0), history, test):
            with transaction.atomic():
                done = HotspotWarning.objects.filter(pk=warning.pk, status__in=OPEN_WARNING_STATUSES).update(
                    status=WarningStatus.EXPIRED, expired_at=now)
                if done:
                    audit.record(None, "warning.expired", warning,
                                 changes={"status": [warning.status, WarningStatus.EXPIRED], "count": [warning.count, count]})
                    outbox.publish(WARNING_EXPIRED, {"warning_id": warning.pk})  # the desks take it off their maps
                    expired.append(warning.pk)
    return {"raised": raised, "expired": expired,
            "open": HotspotWarning.objects.filter(status__in=OPEN_WARNING_STATUSES).count()}


def check_hotspots_now():
    """The periodic job (Celery beat / the embedded ticker)."""
    return check_hotspots()


def _raise(grid_id, code, *, count, mean, p, start, now) -> HotspotWarning | None:
    grid = Area.objects.filter(pk=grid_id).first()
    if grid is None:
        return None
    street = grid_selectors.street_of(grid)
    name = (Event.objects.filter(problem_type_code=code).exclude(problem_type_name="")
            .values_list("problem_type_name", flat=True).first()) or code
    try:
        with transaction.atomic():
            warning = HotspotWarning.objects.create(
                grid_id=grid_id, street=street, path=grid.path, problem_type_code=code, problem_type_name=name,
                window_start=start, window_end=now, count=count, baseline=round(mean, 3), p_value=p,
                peak_count=count, raised_at=now)
            audit.record(None, "warning.raised", warning, changes={"status": [None, WarningStatus.RAISED],
                                                                  "count": [None, count]})
            outbox.publish(WARNING_RAISED, {"warning_id": warning.pk})
    except IntegrityError:
        return None  # another check raised this episode first
    return warning


def acknowledge_warning(actor, warning: HotspotWarning, *, note: str) -> HotspotWarning:
    """A dispatcher, team leader or bureau staff member covering the grid takes note of the warning."""
    if not has_role(actor, DISPATCHER, TEAM_LEADER, BUREAU_STAFF):
        raise Forbidden(_("只有调度员、中队长和区局工作人员可以确认预警。"))
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationFailed(fields={"note": [_("最多 500 个字符。")]})
    with transaction.atomic():
        current = HotspotWarning.objects.select_for_update().get(pk=warning.pk)
        if current.status != WarningStatus.RAISED:
            raise Conflict(_("该预警已确认或已解除。"))
        now = timezone.now()
        current.status, current.acknowledged_at, current.acknowledged_by, current.note = (
            WarningStatus.ACKNOWLEDGED, now, actor, note)
        current.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "note"])
        audit.record(actor, "warning.acknowledged", current,
                     changes={"status": [WarningStatus.RAISED, WarningStatus.ACKNOWLEDGED], "note": ["", note]})
        outbox.publish(WARNING_ACKNOWLEDGED, {"warning_id": current.pk})  # the desks' labels say so
    return current


def set_assessment_weights(actor, *, weights: dict) -> dict:
    """Bureau staff of the whole district set the assessment's weights (0–100 each; at least one above 0)."""
    from analytics.models import AssessmentWeight
    from analytics.selectors import assessment
    from analytics.selectors.assessment import INDICATORS

    if not has_role(actor, BUREAU_STAFF) or grid_selectors.user_area_paths(actor) is not None:
        raise Forbidden(_("只有全区的区局工作人员可以设置考核权重。"))
    errors = {}
    for key, value in weights.items():
        if key not in INDICATORS:
            errors[key] = [_("未知指标。")]
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            errors[key] = [_("权重应为 0 到 100 之间的数。")]
    if not errors and not any(v > 0 for v in {**assessment.weights(), **weights}.values()):
        errors["weights"] = [_("至少一项指标的权重大于 0。")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        before = assessment.weights()
        for key, value in weights.items():
            AssessmentWeight.objects.update_or_create(indicator=key, defaults={"weight": float(value), "updated_by": actor})
        after = assessment.weights()
        delta = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if delta:
            audit.record(actor, "assessment.weights_changed", None, changes=delta, object_type="analytics.assessmentweight",
                         object_id="weights", object_repr=_("考核权重"))
    return after
