"""Every write to the command center, one module per concern (import the module you mean; this package
re-exports nothing):

- `base`: what every service uses: the transition table, who may act, the row lock, the traces a step
  leaves (timeline line, audit record, the push through the outbox), text cleaning, deadlines;
- `intake`: a report becomes a routed event with its deadlines (and its report photos);
- `transitions`: one service per step of an event's life, and automatic dispatch;
- `escalation`: who an event goes up to, and the escalate step;
- `sweep`: the SLA clock: due deadlines fire, exactly once, in batches;
- `photos`: photo writes (added to an event, a report's photos at intake, result photos at resolve);
- `policies`: the SLA policies bureau staff set.
"""
