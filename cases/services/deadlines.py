"""The periodic check: overdue flags, reminders to the leader, publication of decisions (执法公示).

Three kinds of item have a time limit and are announced the same way: a case's current step
(`step_due_at`), an appeal against a decision (`Appeal.due_at`) and an appeal against a credit colour
(`ColorAppeal.due_at`). Each open item is announced twice at most: a reminder when its time limit comes
within the kind's lead time (CASES_REMIND_BEFORE_HOURS; appeals CASES_APPEAL_REMIND_BEFORE_HOURS, by
default the same), and an overdue notice once it has passed (an item found already past, by a check
that came late, gets the overdue one only). The claim is the item's own row: locked, then flagged
(`reminded_at`, `overdue`) in the check's transaction, so a second check, concurrent or later, finds
nothing left to announce. All go through the outbox (cases.signals.deadlines_due), which the command
center turns into `case.deadline` pushes to the street's desk and leaders; each row says its `kind`.
"""
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import signals
from cases.choices import FINAL_STATUSES, AppealResult, Step
from cases.models import Appeal, Case, CaseRecord, ColorAppeal
from cases.services.disclosure import publish_due
from core import audit, outbox
from grids import selectors as grid_selectors

REMINDER, OVERDUE = "reminder", "overdue"
PENDING = "pending"  # an appeal's status in a row: not decided yet (AppealResult.PENDING is "")


def _due_text(due) -> str:
    return timezone.localtime(due).strftime("%Y-%m-%d %H:%M")


def _row(kind: str, pk, number: str, street_id, status: str, due, reason: str, url: str) -> dict:
    return {"kind": kind, "id": pk, "number": number, "street_id": street_id, "status": status,
            "due_at": due.isoformat(), "overdue": reason == OVERDUE, "reason": reason, "url": url}


def _announce_cases(pks, reason: str, now) -> list[dict]:
    """A record line per case (全过程记录), and the rows the push carries."""
    cases = list(Case.objects.filter(pk__in=pks).order_by("step_due_at", "pk")
                 .values("pk", "number", "street_id", "status", "step_due_at"))
    CaseRecord.objects.bulk_create([CaseRecord(
        case_id=c["pk"], step=Step.REMINDER, actor=None, actor_label="system", at=now,
        note=(_("已超期：%(due)s") if reason == OVERDUE else _("期限提醒：%(due)s")) % {"due": _due_text(c["step_due_at"])},
        data={"overdue": reason == OVERDUE}) for c in cases])
    return [_row("case", c["pk"], c["number"], c["street_id"], c["status"], c["step_due_at"], reason,
                 f"/cases/{c['pk']}/") for c in cases]


def _announce_appeals(pks, reason: str, now) -> list[dict]:
    """A line in the appealed case's record (全过程记录, as a case's own notices), and the rows."""
    appeals = list(Appeal.objects.filter(pk__in=pks).order_by("due_at", "pk")
                   .values("pk", "case_id", "case__number", "case__street_id", "due_at"))
    CaseRecord.objects.bulk_create([CaseRecord(
        case_id=a["case_id"], step=Step.REMINDER, actor=None, actor_label="system", at=now,
        note=(_("复议/申诉已超期：%(due)s") if reason == OVERDUE else _("复议/申诉期限提醒：%(due)s")) % {
            "due": _due_text(a["due_at"])},
        data={"overdue": reason == OVERDUE, "appeal": a["pk"]}) for a in appeals])
    return [_row("appeal", a["pk"], a["case__number"], a["case__street_id"], PENDING, a["due_at"], reason,
                 f"/cases/{a['case_id']}/") for a in appeals]


def _announce_color_appeals(pks, reason: str, now) -> list[dict]:
    """An audit entry per colour appeal (it has no case record), and the rows, to the subject's street."""
    appeals = list(ColorAppeal.objects.filter(pk__in=pks).select_related("subject__grid")
                   .only("pk", "due_at", "color", "result", "subject__name", "subject__grid__path")
                   .order_by("due_at", "pk"))
    streets = grid_selectors.street_and_community_of([a.subject.grid for a in appeals])
    action = "case.color_appeal_overdue" if reason == OVERDUE else "case.color_appeal_reminder"  # cases.audit_words
    audit.record_many(None, action, [(a, {"due_at": [None, a.due_at]}) for a in appeals], at=now)
    page = reverse("cases:color_appeals")
    rows = []
    for a in appeals:
        street = streets.get(a.subject.grid_id, (None, None))[0]
        rows.append(_row("color_appeal", a.pk, a.subject.name, street.pk if street else None, PENDING, a.due_at,
                         reason, f"{page}#appeal-{a.pk}"))
    return rows


def _hours(name: str, fallback: str) -> float:
    return float(getattr(settings, name, getattr(settings, fallback, 24)))


@dataclass(frozen=True)
class DeadlineKind:
    """One kind of item with a time limit: its model (with `overdue` and `reminded_at`), the field of the
    limit, which items are still open, the lead time's setting, and how its notices are recorded."""
    name: str
    model: type[Model]
    due_field: str
    open_q: Q
    lead_setting: str
    announce: Callable[[list, str, object], list[dict]]

    def claim(self, now) -> tuple[list, list]:
        """Lock the open items whose notice is due and flag them as told: (overdue ids, reminder ids)."""
        due = self.due_field
        open_items = self.model.objects.filter(self.open_q).select_for_update()
        late = list(open_items.filter(**{f"{due}__lt": now}, overdue=False).order_by(due).values_list("pk", flat=True))
        if late:
            self.model.objects.filter(pk__in=late).update(overdue=True, reminded_at=now)
        soon_until = now + timedelta(hours=_hours(self.lead_setting, "CASES_REMIND_BEFORE_HOURS"))
        soon = list(open_items.filter(**{f"{due}__gte": now, f"{due}__lte": soon_until}, overdue=False,
                                      reminded_at__isnull=True).order_by(due).values_list("pk", flat=True))
        if soon:
            self.model.objects.filter(pk__in=soon).update(reminded_at=now)
        return late, soon


KINDS = (
    DeadlineKind("case", Case, "step_due_at", ~Q(status__in=FINAL_STATUSES), "CASES_REMIND_BEFORE_HOURS",
                 _announce_cases),
    DeadlineKind("appeal", Appeal, "due_at", Q(result=AppealResult.PENDING), "CASES_APPEAL_REMIND_BEFORE_HOURS",
                 _announce_appeals),
    DeadlineKind("color_appeal", ColorAppeal, "due_at", Q(result=AppealResult.PENDING),
                 "CASES_APPEAL_REMIND_BEFORE_HOURS", _announce_color_appeals),
)


@transaction.atomic
def check_deadlines(*, now=None) -> dict:
    """Flag items past their time limit, remind the leader once of those due soon and once more when they
    fall overdue (cases, appeals, colour appeals), and publish decisions whose disclosure date has come.
    Returns the counts, in all and by kind."""
    now = now or timezone.now()
    late_rows, soon_rows, by_kind = [], [], {}
    for kind in KINDS:
        late, soon = kind.claim(now)
        late_rows += kind.announce(late, OVERDUE, now) if late else []
        soon_rows += kind.announce(soon, REMINDER, now) if soon else []
        by_kind[kind.name] = {"overdue": len(late), "reminded": len(soon)}
    rows = late_rows + soon_rows
    if rows:
        outbox.publish(signals.deadlines_due, {"cases": rows})
    return {"overdue": len(late_rows), "reminded": len(soon_rows), "announced": len(rows), "by_kind": by_kind,
            "published": publish_due(now)}
