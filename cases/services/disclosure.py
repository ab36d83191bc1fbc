"""Disclosure (执法公示): a decision is published when served, or at the latest a set number of working
days after it (the periodic check), and kept for the disclosure period; an appeal that revokes it takes
it down (cases.services.appeals)."""
from datetime import timedelta

from cases.choices import DECIDED_STATUSES
from cases.models import Case
from cases.services.common import _setting


def publish(case: Case, now):
    if case.disclosed_at is None:
        case.disclosed_at = now
        case.disclosed_until = now + timedelta(days=int(_setting("CASES_DISCLOSURE_KEEP_DAYS", 1095)))


def publish_due(now) -> int:
    """Publish the decisions whose disclosure date has come (in the caller's transaction)."""
    published = 0
    for case in Case.objects.select_for_update().filter(status__in=DECIDED_STATUSES, disclosed_at__isnull=True,
                                                        disclose_by__lte=now):
        publish(case, now)
        case.save(update_fields=["disclosed_at", "disclosed_until"])
        published += 1
    return published
