"""What every casework action shares: input cleaning, the role checks, the row lock, the record line
and the audit entry (see the package's docstring for the order of the checks)."""
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import selectors, signals
from cases.choices import FINAL_STATUSES, Status, TransferStatus
from cases.models import Case, CaseRecord, Transfer
from core import audit
from core.exceptions import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from core.roles import BUREAU_STAFF, DISPATCHER, OFFICER, TEAM_LEADER, has_role
from grids import selectors as grid_selectors
from grids.models import Officer

FILING_ROLES = (OFFICER, TEAM_LEADER, DISPATCHER)
TEXT_MAX = 5000
NOTE_MAX = 500
MIN_HANDLERS = 2


def _setting(name, default):
    return getattr(settings, name, default)


def _text(value, field, *, required=True, max_length=NOTE_MAX) -> str:
    value = "" if value is None else str(value).strip()
    if "\x00" in value:
        raise ValidationFailed(fields={field: [_("不能包含空字符。")]})
    if required and not value:
        raise ValidationFailed(fields={field: [_("此字段为必填项。")]})
    if len(value) > max_length:
        raise ValidationFailed(fields={field: [_("最多 %(n)d 个字符。") % {"n": max_length}]})
    return value


def _amount(value, field) -> Decimal:
    try:
        amount = Decimal(str(value if value is not None else 0))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(fields={field: [_("请输入金额。")]}) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise ValidationFailed(fields={field: [_("金额必须是 0 到 9999999999 之间的数。")]})
    return amount.quantize(Decimal("0.01"))


def add_working_days(start: datetime, days: int) -> datetime:
    """`days` working days (Monday to Friday) after `start` (public holidays are not known here)."""
    current, left = start, int(days)
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


# --- the step's frame ---------------------------------------------------------------------------

def _step_due(status: str, now: datetime, case: Case) -> datetime | None:
    if status in FINAL_STATUSES:
        return None
    days = _setting("CASES_STEP_DAYS", {}).get(status)
    due = now + timedelta(days=days) if days else None
    if status in (Status.FILED, Status.INVESTIGATION, Status.REVIEW, Status.APPROVED, Status.NOTIFIED,
                  Status.LEGAL_REVIEW):
        due = min(d for d in (due, case.decision_due_at) if d is not None)  # the decision's limit bounds each
    return due


def _officer(actor) -> Officer | None:
    if not getattr(actor, "is_authenticated", False):
        return None
    return Officer.objects.filter(user=actor).first()


def _is_handler(actor, case: Case) -> bool:
    officer = _officer(actor)
    return officer is not None and case.handlers.filter(pk=officer.pk).exists()


def _by_handler(what):
    def check(actor, case):
        if getattr(actor, "is_superuser", False):
            return
        if not _is_handler(actor, case):
            raise Forbidden(_("只有本案承办人可以%(what)s。") % {"what": what})
    return check


def _by_leader(what):
    def check(actor, case):
        if not has_role(actor, TEAM_LEADER) or not grid_selectors.user_covers_area(actor, case.street):
            raise Forbidden(_("只有本街道执法队长可以%(what)s。") % {"what": what})
    return check


def _by_bureau_not_handler(what):
    def check(actor, case):
        if not has_role(actor, BUREAU_STAFF):
            raise Forbidden(_("只有区综合执法局工作人员可以%(what)s。") % {"what": what})
        if _is_handler(actor, case):
            raise Forbidden(_("承办人不能%(what)s。") % {"what": what})
    return check


def _lock(actor, case, expected_version, check, allowed, *, transfer_ok=False) -> Case:
    """Lock the case row and run the checks (see the module's docstring)."""
    case_id = case.pk if isinstance(case, Case) else case
    locked = Case.objects.select_for_update().filter(pk=case_id).first()
    if locked is None or not selectors.cases_for(actor).filter(pk=case_id).exists():
        raise NotFound(_("案件不存在。"))
    case = Case.objects.select_related("street", "subject").get(pk=case_id)
    check(actor, case)
    if expected_version is not None and int(expected_version) != case.version:
        raise PreconditionFailed(_("案件已被他人修改，请刷新后重试。"), code="stale_version")
    if case.status not in allowed:
        raise Conflict(_("案件当前状态（%(status)s）不能进行此操作。") % {"status": case.get_status_display()},
                       code="illegal_step")
    if not transfer_ok and Transfer.objects.filter(case=case, status=TransferStatus.PENDING).exists():
        raise Conflict(_("案件正在移送，等待对方接收。"), code="transfer_pending")
    return case


def _record(case: Case, step: str, actor, *, from_status="", to_status="", note="", data=None, at=None):
    at = at or timezone.now()
    CaseRecord.objects.create(
        case=case, step=step, actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=audit.actor_label(actor), at=at, from_status=from_status, to_status=to_status, note=note,
        data=data or {})


def _finish(case: Case, actor, step: str, *, before: str, note="", data=None, now=None, audit_changes=None):
    """Bump the version, set the step's deadline, write the record line and the audit entry."""
    now = now or timezone.now()
    if case.status != before:
        case.step_due_at = _step_due(case.status, now, case)
        case.overdue = False
        case.reminded_at = None
    case.version = F("version") + 1
    case.save()
    case.refresh_from_db(fields=["version", "updated_at"])
    _record(case, step, actor, from_status=before, to_status=case.status, note=note, data=data, at=now)
    changes = {"status": [before, case.status]} if before != case.status else {}
    changes.update(audit_changes or {})
    audit.record(actor, f"case.{step}", case, changes=changes)
    transaction.on_commit(lambda: signals.case_changed.send(sender=Case, case_id=case.pk, step=step))
    return case
