"""Signals inspections sends to the apps above it (it never imports them; see ARCHITECTURE.md).

`rectification_overdue`: a deadline rectification passed its comply-by date undone. Sent once per
finding, inside the sweep's transaction, right after the conditional UPDATE that marks the finding
(Finding.overdue_raised_at: the database guard of "exactly once"). Keyword arguments:
    finding_id, subject_id, lat, lng, problem_type (code or ""), severity ("blue"…"red"),
    description, external_id ("inspection-finding-<id>").
command_center listens and raises an event with source "inspection".
"""
from django.dispatch import Signal

rectification_overdue = Signal()
