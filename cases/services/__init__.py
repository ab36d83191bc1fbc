"""Every write of casework: one function per action, each one transaction; one module per concept:

    common         input cleaning, role checks, the row lock, the record line and audit entry (_finish)
    filing         立案: catalog version, number under a lock, handlers, matters, origin (event, finding)
    investigation  调查取证: starting it, append-only evidence
    outcomes       each matter's outcome: legal range, no-penalty lists, first violation, legal review trigger
    review         审核 by the leader, 事先告知, 陈述申辩, 听证, 法制审核
    decision       决定, and the `violation` facts it posts to credit
    closing        送达, 执行, 结案
    disclosure     执法公示
    transfer       案件移送 and its acceptance
    appeals        复议/申诉 against a decision
    color_appeals  复议/申诉 against a credit colour alone
    quality        案卷评查, views of personal data, document exports
    deadlines      the periodic check: overdue flags and reminders (cases, appeals, colour appeals),
                   publication

Each action locks the case row and checks, in this order: the asker may see the case (else NotFound,
404: another street's case does not exist for them), their role for the step (Forbidden, 403), the
version they acted on (If-Match: PreconditionFailed, 412), and that the step may follow the case's status
(Conflict, 409). Then it changes the case, writes one line of the full-process record (CaseRecord) and
an audit entry, bumps the version and sets the new step's deadline.

A decision posts a `violation` fact per matter to credit (with its leniency); an appeal marks those facts
contested while open, and a revoking outcome withdraws them.

Callers import from `cases.services`; the modules are its rooms.
"""
from cases.services.appeals import appeal, decide_appeal
from cases.services.color_appeals import appeal_color, decide_color_appeal
from cases.services.closing import close, execute, serve
from cases.services.common import FILING_ROLES, MIN_HANDLERS, NOTE_MAX, TEXT_MAX, add_working_days
from cases.services.deadlines import check_deadlines
from cases.services.decision import LENIENCY_OF, decide
from cases.services.disclosure import publish, publish_due
from cases.services.filing import catalog_version_on, file_case
from cases.services.investigation import EVIDENCE_STATUSES, add_evidence, investigate
from cases.services.quality import DOCUMENT_READY, export_document, quality_review, record_view
from cases.services.review import (
    approve, legal_review, notify, record_hearing, record_statement, request_legal_review, return_case, submit,
)
from cases.services.transfer import TRANSFER_STATUSES, answer_transfer, transfer

__all__ = [
    "DOCUMENT_READY", "EVIDENCE_STATUSES", "FILING_ROLES", "LENIENCY_OF", "MIN_HANDLERS", "NOTE_MAX", "TEXT_MAX",
    "TRANSFER_STATUSES", "add_evidence", "add_working_days", "answer_transfer", "appeal", "appeal_color", "approve",
    "catalog_version_on", "check_deadlines", "close", "decide", "decide_appeal", "decide_color_appeal", "execute",
    "export_document",
    "file_case", "investigate", "legal_review", "notify", "publish", "publish_due", "quality_review",
    "record_hearing", "record_statement", "record_view", "request_legal_review", "return_case", "serve", "submit",
    "transfer",
]
