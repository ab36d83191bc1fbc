"""Complaints feed credit (issue 6): a citizen-sourced event about a subject is a complaint on it.

- intake: a complaint fact, unconfirmed;
- resolved or closed (the problem was there and was handled): the complaint is confirmed;
- rejected as groundless (不予受理) or merged as a duplicate: the complaint is withdrawn, and the score
  goes back.

Called by the command_center services (intake, transitions) inside the event's own transaction, so the ledger and the event never
disagree (both commit or neither); credit rescores the subject when it commits. Credit keeps the event's
id as the fact's source reference, so every call here is idempotent.
"""
from command_center.choices import Action, Source
from credit.choices import FactKind
from credit.models import CreditFact
from credit.services import facts as credit

# Complaints come from people: the citizen channels. Machine-detected, patrol and inspection events
# are not complaints (inspections post their own findings).
CITIZEN_SOURCES = (Source.CITIZEN, Source.HOTLINE_12345)
REF = {"source_app": "command_center", "source_model": "event"}


def _applies(event) -> bool:
    return event.subject_id is not None and event.source in CITIZEN_SOURCES


def _post(event, actor, *, new_event=False) -> CreditFact:
    text = f"#{event.pk} {event.problem_type_name or event.problem_type_code}".strip()
    fact, _created = credit.post_fact(
        event.subject_id, FactKind.COMPLAINT, source_pk=event.pk, occurred_at=event.created_at,
        confirmed=False, source_text=text, actor=actor, new_source=new_event, **REF)
    return fact


def on_event_action(event, action: str, actor=None):
    """Bring the subject's complaint fact in line with what just happened to the event."""
    if not _applies(event):
        return
    if action == Action.CREATE:
        _post(event, actor, new_event=True)  # intake just wrote the event (and read its subject)
    elif action in (Action.RESOLVE, Action.CLOSE):
        fact = _post(event, actor)  # the first call posted it; this finds it (or repairs a gap)
        if fact.withdrawn_at is None and not fact.confirmed:
            credit.confirm_fact(fact, actor=actor)
    elif action in (Action.REJECT, Action.MERGE):
        reason = "不予受理" if action == Action.REJECT else f"重复事件，已合并至 #{event.merged_into_id}"
        credit.withdraw_fact(source_pk=event.pk, kind=FactKind.COMPLAINT, reason=reason, actor=actor, **REF)
