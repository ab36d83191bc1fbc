"""Transfer of a case to another department or street (案件移送) and the receiving side's answer."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import Status, Step, TransferStatus, TransferTarget
from cases.models import Case, Transfer
from cases.services.common import _by_leader, _finish, _lock, _text
from cases.services.filing import _handlers
from core.exceptions import Conflict, Forbidden, ValidationFailed
from core.roles import BUREAU_STAFF, TEAM_LEADER, has_role
from grids import selectors as grid_selectors
from grids.choices import AreaKind
from grids.models import Area, Department


TRANSFER_STATUSES = (Status.FILED, Status.INVESTIGATION, Status.REVIEW)


@transaction.atomic
def transfer(actor, case, *, target: str, reason: str, to_street_code: str = "", to_department_code: str = "",
             expected_version=None) -> Transfer:
    """Send the case to another department or street (案件移送); it moves when they accept."""
    case = _lock(actor, case, expected_version, _by_leader(_("移送案件")), TRANSFER_STATUSES)
    reason = _text(reason, "reason")
    fields = {}
    if target == TransferTarget.STREET:
        street = Area.objects.filter(code=str(to_street_code or ""), kind=AreaKind.STREET).first()
        if street is None:
            raise ValidationFailed(fields={"to_street": [_("镇街不存在。")]})
        if street.pk == case.street_id:
            raise ValidationFailed(fields={"to_street": [_("不能移送给本街道。")]})
        fields["to_street"] = street
    elif target == TransferTarget.DEPARTMENT:
        department = Department.objects.filter(code=str(to_department_code or "")).first()
        if department is None:
            raise ValidationFailed(fields={"to_department": [_("部门不存在。")]})
        fields["to_department"] = department
    else:
        raise ValidationFailed(fields={"target": [_("移送对象须为部门或镇街。")]})
    now = timezone.now()
    moved = Transfer.objects.create(case=case, target=target, reason=reason, requested_by=actor, requested_at=now,
                                    **fields)
    _finish(case, actor, Step.TRANSFER, before=case.status, now=now, note=reason,
            data={"transfer": moved.pk, "target": target, "to": to_street_code or to_department_code})
    return moved


def _receiver(actor, case):
    pending = Transfer.objects.filter(case=case, status=TransferStatus.PENDING).select_related("to_street").first()
    if pending is None:
        return
    if pending.target == TransferTarget.STREET:
        if not (has_role(actor, TEAM_LEADER) and grid_selectors.user_covers_area(actor, pending.to_street)):
            raise Forbidden(_("只有接收街道的执法队长可以接收移送。"))
    elif not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以代接收部门接收移送。"))


@transaction.atomic
def answer_transfer(actor, case, *, accept: bool, note: str = "", handler_ids=None, expected_version=None) -> Case:
    """The receiving side accepts (a street names its own two handlers; the case keeps its number) or
    refuses, saying why (the case stays where it was)."""
    case = _lock(actor, case, expected_version, _receiver, tuple(Status), transfer_ok=True)
    pending = Transfer.objects.select_for_update().filter(case=case, status=TransferStatus.PENDING).first()
    if pending is None:
        raise Conflict(_("没有待接收的移送。"), code="no_transfer")
    now = timezone.now()
    before = case.status
    if not accept:
        note = _text(note, "note")
        pending.status = TransferStatus.REFUSED
    else:
        note = _text(note, "note", required=False)
        pending.status = TransferStatus.ACCEPTED
        if pending.target == TransferTarget.STREET:
            officers = _handlers(handler_ids, pending.to_street)
            case.street = pending.to_street
            case.status = Status.INVESTIGATION
            case.handlers.set(officers)
        else:
            case.status = Status.TRANSFERRED
    pending.answered_by, pending.answered_at, pending.answer_note = actor, now, note
    pending.save(update_fields=["status", "answered_by", "answered_at", "answer_note"])
    return _finish(case, actor, Step.ACCEPT_TRANSFER if accept else Step.REFUSE_TRANSFER, before=before, now=now,
                   note=note, data={"transfer": pending.pk}, audit_changes={"transfer": [None, pending.status]})
