"""The periodic check: overdue flags, reminders to the leader, publication of decisions (执法公示)."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import selectors, signals
from cases.choices import FINAL_STATUSES, Step
from cases.models import Case, CaseRecord
from cases.services.disclosure import publish_due


@transaction.atomic
def check_deadlines(*, now=None) -> dict:
    """Flag cases past their step's deadline, remind the leader once of those due soon or past, and
    publish decisions whose disclosure date has come. Returns the counts."""
    now = now or timezone.now()
    open_cases = Case.objects.exclude(status__in=FINAL_STATUSES)
    flagged = open_cases.filter(step_due_at__lt=now, overdue=False).update(overdue=True)
    due = list(open_cases.filter(selectors.due_soon_q(now), reminded_at__isnull=True)
               .values("pk", "number", "street_id", "status", "step_due_at", "overdue"))
    if due:
        Case.objects.filter(pk__in=[c["pk"] for c in due]).update(reminded_at=now)
        for c in due:
            CaseRecord.objects.create(case_id=c["pk"], step=Step.REMINDER, actor=None, actor_label="system", at=now,
                                      note=_("期限提醒：%(due)s") % {"due": timezone.localtime(c["step_due_at"])
                                                                    .strftime("%Y-%m-%d %H:%M")},
                                      data={"overdue": c["overdue"] or c["step_due_at"] < now})
        rows = [{"id": c["pk"], "number": c["number"], "street_id": c["street_id"], "status": c["status"],
                 "due_at": c["step_due_at"].isoformat(), "overdue": c["step_due_at"] < now} for c in due]
        transaction.on_commit(lambda: signals.deadlines_due.send(sender=Case, cases=rows))
    return {"overdue": flagged, "reminded": len(due), "published": publish_due(now)}
