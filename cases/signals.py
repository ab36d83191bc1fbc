"""Signals casework sends for the apps above it (cases may not import them): the command center turns
them into live pushes to the street's team leader."""
from django.dispatch import Signal

# After a commit that changed a case: case_id, step.
case_changed = Signal()
# After the deadline check found cases due soon or past: cases = [{id, number, street_id, status, due_at, overdue}].
deadlines_due = Signal()
