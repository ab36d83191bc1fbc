"""Every write of the inspect-once workflow: one function per action, one transaction each, audited.

The package, by concept (each name is importable from `inspections.services` as before):
- common: shared checks (street, month, officers, the daily cap, working days, ids).
- drafting: draft_plan (who is due → one joint visit per subject → days and teams → routes).
- plan_editing: add_visit, remove_visit, move_visit, create_visit (one-off or standalone), approve_plan
  (the street's team leader only); a change to an approved plan is an amendment (counted, audited).
- visits: record_finding (idempotent by the phone's client id; a second record of an item is a linked
  correction), add_photo, complete_visit, comply_by_days.
- rules: the plan rules bureau staff set (daily cap, comply-by days by weight band and by item).
- rectification: reinspect, refer_to_case, take_up_referral, sweep_overdue (marks rectifications past
  their comply-by date, posts the credit fact and sends `signals.rectification_overdue` once per finding).

Credit facts (credit.services.facts), referenced by the finding: a failed item posts
`inspection_finding` (its weight), a deadline posts `rectification_open`; overdue posts
`rectification_overdue`; done withdraws open + overdue and, when late, posts `rectification_late`;
a correction withdraws the corrected finding's facts.
"""
from inspections.services.common import (
    FINDING_MODEL, MAX_PHOTO_BYTES, MAX_SIGNATURE_BYTES, REASON_PRIORITY, SOURCE_APP, _check_cap,
    _checklist_of, _clean_client_id, _clean_day, _clean_officers, _int_id, _int_id_or_404, _subject_in_street,
    _system_user, is_workday, month_last, next_month, plan_month, previous_month, require_leader, require_planner,
    street_for, working_days,
)
from inspections.services.drafting import (
    _checklists, _draft, _due_subjects, _Planned, _route_orders, _schedule, _Team, draft_plan,
)
from inspections.services.plan_editing import (
    _already_planned, _amended, _insert_visit, _locked_plan, _new_visit, _plan_visit, _reroute_day, _visit_changes,
    add_visit, approve_plan, create_visit, move_visit, remove_visit,
)
from inspections.services.visits import (
    _clean_comply_by, _image, _post_finding_facts, _visit_for_writing, add_photo, complete_visit, record_finding,
)
from inspections.services.rectification import (
    refer_to_case, reinspect, sweep_overdue, take_up_referral,
)
from inspections.services.rules import (
    DEFAULT_COMPLY_BY, SEVERITY_BY_WEIGHT, comply_by_days, daily_cap, require_rules_editor, rules_for, save_rules,
    setting_daily_cap, severity_for,
)

__all__ = [
    "FINDING_MODEL", "MAX_PHOTO_BYTES", "MAX_SIGNATURE_BYTES", "REASON_PRIORITY", "SOURCE_APP", "_check_cap",
    "_checklist_of", "_clean_client_id", "_clean_day", "_clean_officers", "_int_id", "_int_id_or_404",
    "_subject_in_street", "_system_user", "is_workday", "month_last", "next_month", "plan_month",
    "previous_month", "require_leader", "require_planner", "street_for", "working_days", "_checklists", "_draft",
    "_due_subjects", "_Planned", "_route_orders", "_schedule", "_Team", "draft_plan", "_already_planned",
    "_amended", "_insert_visit", "_locked_plan", "_new_visit", "_plan_visit", "_reroute_day", "_visit_changes",
    "add_visit", "approve_plan", "create_visit", "move_visit", "remove_visit", "_clean_comply_by", "_image",
    "_post_finding_facts", "_visit_for_writing", "add_photo", "complete_visit", "record_finding", "refer_to_case",
    "reinspect", "sweep_overdue", "take_up_referral", "DEFAULT_COMPLY_BY", "SEVERITY_BY_WEIGHT", "comply_by_days",
    "daily_cap", "require_rules_editor", "rules_for", "save_rules", "setting_daily_cap", "severity_for",
]
