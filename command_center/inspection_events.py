"""An overdue rectification (inspections) becomes an event here: inspections sends
`inspections.signals.rectification_overdue` (it may not import us) and this receiver runs intake with
source "inspection", inside the sender's transaction. Once per finding: inspections' sweep sends the
signal only after winning the conditional UPDATE that marks the finding (its database guard)."""
import logging

from core.exceptions import DomainError

logger = logging.getLogger(__name__)


def on_rectification_overdue(sender, *, finding_id, subject_id, lat, lng, problem_type, severity, description,
                             external_id, **kwargs):
    from command_center.choices import Source
    from command_center.services.intake import intake_event

    if not problem_type:
        logger.warning("overdue rectification %s: its matter has no problem type; no event raised", finding_id)
        return None
    try:
        event, _created = intake_event(None, {
            "source": Source.INSPECTION, "problem_type": problem_type, "description": description,
            "lat": lat, "lng": lng, "external_id": external_id, "severity": severity, "subject": subject_id,
        })
    except DomainError as exc:  # an unroutable matter must not stop the sweep: the finding stays overdue
        logger.warning("overdue rectification %s: no event raised (%s)", finding_id, exc)
        return None
    return event


def connect():
    from inspections.signals import rectification_overdue

    rectification_overdue.connect(on_rectification_overdue, dispatch_uid="command_center.inspection_overdue")
