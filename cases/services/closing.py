"""After the decision: service (送达, which publishes it), execution (执行) and closing (结案)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import Outcome, Status, Step
from cases.models import Case
from cases.services.common import _by_handler, _by_leader, _finish, _lock, _text
from cases.services.disclosure import publish
from core.exceptions import Conflict


@transaction.atomic
def serve(actor, case, *, method: str, expected_version=None) -> Case:
    """The decision is served (送达) on the party; it is published (执法公示) from then."""
    case = _lock(actor, case, expected_version, _by_handler(_("送达")), (Status.DECIDED,))
    now = timezone.now()
    case.status, case.served_at = Status.SERVED, now
    case.service_method = _text(method, "method", max_length=50)
    publish(case, now)
    return _finish(case, actor, Step.SERVE, before=Status.DECIDED, now=now, note=case.service_method)


def _has_execution(case: Case) -> bool:
    return case.matters.exclude(outcome=Outcome.NO_PENALTY).exists()


@transaction.atomic
def execute(actor, case, *, note: str, expected_version=None) -> Case:
    """The decision carried out (执行): the fine paid, the measure taken."""
    case = _lock(actor, case, expected_version, _by_handler(_("登记执行")), (Status.SERVED,))
    if not _has_execution(case):
        raise Conflict(_("不予处罚的案件无需执行，可直接结案。"), code="nothing_to_execute")
    now = timezone.now()
    case.status, case.executed_at = Status.EXECUTED, now
    case.execution_note = _text(note, "note")
    return _finish(case, actor, Step.EXECUTE, before=Status.SERVED, now=now, note=case.execution_note)


@transaction.atomic
def close(actor, case, *, note: str = "", expected_version=None) -> Case:
    case = _lock(actor, case, expected_version, _by_leader(_("结案")), (Status.SERVED, Status.EXECUTED))
    if case.status == Status.SERVED and _has_execution(case):
        raise Conflict(_("处罚尚未执行，不能结案。"), code="not_executed")
    before = case.status
    case.status, case.closed_at = Status.CLOSED, timezone.now()
    return _finish(case, actor, Step.CLOSE, before=before, now=case.closed_at,
                   note=_text(note, "note", required=False))
