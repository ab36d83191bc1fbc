"""Signals the services send on commit; live push, webhooks and dispatch connect to them.

`event_changed`: kind ("event.created" | "event.updated"), event_id, version, action.
`sla_breached`: kind ("sla.breached"), breaches: [{"breach_id", "event_id", "stage"}, …], once per sweep
batch (a sweep fires hundreds at a time; receivers handle them together).
"""
from django.dispatch import Signal

event_changed = Signal()
sla_breached = Signal()
