"""Dispatch: who may take an event and in what order, who picks (the dispatch modes), and automatic
dispatch (on intake, and to the next candidate after a decline).

Ranking. An officer is a candidate when all of these hold (each failure is a counted reason):
  - on duty (not off duty, not on a break);
  - a fresh position (a ping within COMMAND_CENTER_POSITION_FRESH_SECONDS);
  - capable: the home department, a skill department or a skill matter covers the event's matter, and
    - for a matter delegated to the street (the event went to the street's team): the officer is in a
      team of that street;
    - for a matter the street does not hold (it went to the owning department): any officer, since an
      officer keeps the powers of the home department;
    - matter's owner unknown (no published catalog): the street's own officers;
  - rank at least the severity's minimum (COMMAND_CENTER_SEVERITY_MIN_RANK);
  - never had this event before (an officer never gets one event twice).
Candidates are ordered: available before the others (those by their load), then by distance and
current load (live assignments). The database does the filtering and the ordering (distance by the
equirectangular formula, exact to well under 0.1 % at a district's scale) and returns only the page
asked for; the exact haversine distance and the reasons are built for those rows alone. The ones left
out are counted per reason in one more query (`ranking`), not described one by one.

Automatic dispatch, the dispatch step taken by the system, is a service: command_center.services.transitions.

Modes (DispatchRule, per street and severity, else the district default for the severity):
  - manual: the street's command desk picks (a dispatcher or team leader bound to the street);
  - central: only dispatchers of the district command center may pick (others get 403);
  - automatic: the best candidate is assigned when the event is committed (a Celery task in production,
    inline in the embedded default), and a decline goes to the next candidate.
  No rule: nothing automatic happens; the event waits in the queue.
"Signed on" is an explicit sign-on at the desk (DispatcherShift, `POST /api/v1/command/duty/sign-on/`)
that lasts until sign-off or the planned end of the shift. A manual street with nobody of its desk signed
on, or a central rule with no district dispatcher signed on, is dispatched automatically instead, and the
timeline line says why.

Modules: candidates.py (the ranking and the desk's override), modes.py (modes, rules, sign-on); every name
is importable from command_center.dispatch.
"""
from command_center.dispatch.modes import (
    ModeDecision, check_may_dispatch, check_rule, create_rule, current_shift, district_desk_signed_on,
    install_default_rules, is_district_dispatcher, mode_for, rule_for, rules_for, shifts_for, sign_off, sign_on,
    street_desk_signed_on, update_rule,
)
from command_center.dispatch.candidates import (
    DEFAULT_PAGE, MAX_OVERRIDABLE, MAX_PAGE, OFF, OVERRIDABLE, Candidate, Eligibility, Ranking, best, eligibility,
    min_rank_for, overridable, owner_department_id, rank, ranking, ranking_for,
)

__all__ = [
    "Candidate",
    "DEFAULT_PAGE",
    "Eligibility",
    "MAX_OVERRIDABLE",
    "MAX_PAGE",
    "ModeDecision",
    "OFF",
    "OVERRIDABLE",
    "Ranking",
    "best",
    "check_may_dispatch",
    "check_rule",
    "create_rule",
    "current_shift",
    "district_desk_signed_on",
    "eligibility",
    "install_default_rules",
    "is_district_dispatcher",
    "min_rank_for",
    "mode_for",
    "overridable",
    "owner_department_id",
    "rank",
    "ranking",
    "ranking_for",
    "rule_for",
    "rules_for",
    "shifts_for",
    "sign_off",
    "sign_on",
    "street_desk_signed_on",
    "update_rule",
]
