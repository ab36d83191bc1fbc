"""What casework tells the apps above it (cases may not import them).

`case_changed` (a Django signal, after a commit that changed a case): case_id, step.
`deadlines_due` (an outbox topic, core.outbox): {"cases": [{kind, id, number, street_id, status, due_at,
overdue, reason: "reminder" | "overdue", url}]}, written by the deadline check in its transaction; `kind`
is "case" (id, number, status: the case's), "appeal" (id: the appeal's, number: its case's) or
"color_appeal" (number: the subject's name); status "pending" for both appeals. The command center pushes
each as `case.deadline` to the street's desk and leaders (command_center.push).
"""
from django.dispatch import Signal

case_changed = Signal()
deadlines_due = "cases.deadlines_due"
