"""Signals the services send on commit; live push, webhooks and dispatch connect to them.

`event_changed`: kind ("event.created" | "event.updated"), event_id, version, action.
`sla_breached`: kind ("sla.breached"), event_id, breach_id, stage.
"""
from django.dispatch import Signal

event_changed = Signal()
sla_breached = Signal()
