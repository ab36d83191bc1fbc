"""The command center's models, one module per concept; every name is importable from here.

- events: events, idempotency keys, the timeline, assignments, photos;
- sla: the SLA clock (policies, deadlines, breaches) and escalations;
- webhooks: other platforms' subscriptions and deliveries;
- rules: per street and severity, dispatch rules, dispatcher shifts, review rules;
- deliberations: deliberations and their meeting minutes;
- submissions: the asynchronous intake's accepted reports.

Invariants that matter under concurrency live in the database: one event per (client, source,
external_id), one idempotency key per client, at most one live assignment per event, an officer never
assigned the same event twice, one breach per deadline.
"""
from command_center.models.events import (  # noqa: F401
    Assignment, Event, EventPhoto, IdempotencyKey, TimelineEntry, event_photo_path,
)
from command_center.models.sla import Breach, Deadline, Escalation, SlaPolicy  # noqa: F401
from command_center.models.webhooks import (  # noqa: F401 — the migrations name the two functions here
    WEBHOOK_KINDS, WebhookDelivery, WebhookSubscription, _validate_webhook_kinds, _webhook_secret,
)
from command_center.models.rules import (  # noqa: F401
    DispatcherShift, DispatchRule, ReviewRule, StreetSeverityRule, street_severity_constraints,
)
from command_center.models.deliberations import Deliberation, DeliberationMeeting  # noqa: F401
from command_center.models.submissions import EventSubmission  # noqa: F401
