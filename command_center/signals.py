"""The follow-up topics the services publish through the outbox (core.outbox) inside their transaction;
live push, webhooks and dispatch register handlers for them (CommandCenterConfig.ready). They run right
after the commit, and from the outbox's drain when the process that committed died first.

`event_changed`: {"kind": "event.created" | "event.updated", "event_id", "version", "action"} (a create
also carries "row", "street_id", "path": the event's row as written).
`sla_breached`: {"kind": "sla.breached", "breaches": [{"breach_id", "event_id", "stage"}, …]}, once per
sweep batch (a sweep fires hundreds at a time; handlers take them together).
`webhook_deliveries`: {"delivery_ids": […]}, webhook deliveries just made; the tasks send them.
`officer_task`: {"kind": "task.assigned" | "task.reassigned" | "task.withdrawn", "officer_id", "event_id",
"cause"}, an officer given a task (reassigned: it came from another officer) or losing one (cause: the
assignment's end, declined or released); the officer's phone hears it (command_center.mobile.push).
"""
event_changed = "command_center.event_changed"
sla_breached = "command_center.sla_breached"
webhook_deliveries = "command_center.webhook_deliveries"
officer_task = "command_center.officer_task"
TASK_ASSIGNED = "task.assigned"
TASK_REASSIGNED = "task.reassigned"
TASK_WITHDRAWN = "task.withdrawn"
