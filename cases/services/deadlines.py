"""The periodic check: overdue flags, reminders to the leader, publication of decisions (执法公示).

Each case's step is announced twice at most: a reminder when its deadline comes within
CASES_REMIND_BEFORE_HOURS, and an overdue notice once it has passed (a case found already past, by a
check that came late, gets the overdue one only). Both go through the outbox (cases.signals.deadlines_due),
which the command center turns into `case.deadline` pushes to the street's desk and leaders.
"""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import selectors, signals
from cases.choices import FINAL_STATUSES, Step
from cases.models import Case, CaseRecord
from cases.services.disclosure import publish_due
from core import outbox

REMINDER, OVERDUE = "reminder", "overdue"
FIELDS = ("pk", "number", "street_id", "status", "step_due_at")


def _announce(rows, reason: str, now) -> list[dict]:
    """A record line per case (全过程记录), and the rows the push carries."""
    CaseRecord.objects.bulk_create([CaseRecord(
        case_id=c["pk"], step=Step.REMINDER, actor=None, actor_label="system", at=now,
        note=(_("已超期：%(due)s") if reason == OVERDUE else _("期限提醒：%(due)s")) % {
            "due": timezone.localtime(c["step_due_at"]).strftime("%Y-%m-%d %H:%M")},
        data={"overdue": reason == OVERDUE}) for c in rows])
    return [{"id": c["pk"], "number": c["number"], "street_id": c["street_id"], "status": c["status"],
             "due_at": c["step_due_at"].isoformat(), "overdue": reason == OVERDUE, "reason": reason,
             "url": f"/cases/{c['pk']}/"} for c in rows]


@transaction.atomic
def check_deadlines(*, now=None) -> dict:
    """Flag cases past their step's deadline, remind the leader once of those due soon and once more
    when they fall overdue, and publish decisions whose disclosure date has come. Returns the counts."""
    now = now or timezone.now()
    open_cases = Case.objects.exclude(status__in=FINAL_STATUSES).select_for_update()
    late = list(open_cases.filter(step_due_at__lt=now, overdue=False).order_by("step_due_at").values(*FIELDS))
    if late:
        Case.objects.filter(pk__in=[c["pk"] for c in late]).update(overdue=True, reminded_at=now)
    soon = list(open_cases.filter(selectors.due_soon_q(now), step_due_at__gte=now, overdue=False,
                                  reminded_at__isnull=True).order_by("step_due_at").values(*FIELDS))
    if soon:
        Case.objects.filter(pk__in=[c["pk"] for c in soon]).update(reminded_at=now)
    rows = _announce(late, OVERDUE, now) + _announce(soon, REMINDER, now)
    if rows:
        outbox.publish(signals.deadlines_due, {"cases": rows})
    return {"overdue": len(late), "reminded": len(soon), "announced": len(rows), "published": publish_due(now)}
