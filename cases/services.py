"""Every write of casework: one function per action, each one transaction.

Each action locks the case row and checks, in this order: the asker may see the case (else NotFound,
404: another street's case does not exist for them), their role for the step (Forbidden, 403), the
version they acted on (If-Match: PreconditionFailed, 412), and that the step may follow the case's status
(Conflict, 409). Then it changes the case, writes one line of the full-process record (CaseRecord) and
an audit entry, bumps the version and sets the new step's deadline.

A decision posts a `violation` fact per matter to credit (with its leniency); an appeal marks those facts
contested while open, and a revoking outcome withdraws them.
"""
import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import documents, selectors, signals
from cases.choices import (
    DECIDED_STATUSES, FINAL_STATUSES, AppealKind, AppealResult, EvidenceKind, LegalOpinion, LenientGround, Origin,
    Outcome, PartyKind, Procedure, Status, Step, TransferStatus, TransferTarget,
)
from cases.models import (
    Appeal, Case, CaseCounter, CaseMatter, CaseRecord, Evidence, QualityReview, Transfer,
)
from core import audit
from core.exceptions import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from core.roles import BUREAU_STAFF, DISPATCHER, OFFICER, TEAM_LEADER, has_role
from credit.choices import FactKind, Leniency
from credit.services import facts as credit_facts
from enforcement.choices import VersionStatus
from enforcement.models import CatalogVersion, Matter
from grids import selectors as grid_selectors
from grids.choices import AreaKind
from grids.models import Area, Department, Officer, Subject
from inspections import selectors as inspection_selectors
from inspections import services as inspection_services
from inspections.choices import Result as InspectionResult
from inspections.models import Finding

FILING_ROLES = (OFFICER, TEAM_LEADER, DISPATCHER)
TEXT_MAX = 5000
NOTE_MAX = 500
MIN_HANDLERS = 2


def _setting(name, default):
    return getattr(settings, name, default)


# --- input ------------------------------------------------------------------------------------

def _text(value, field, *, required=True, max_length=NOTE_MAX) -> str:
    value = "" if value is None else str(value).strip()
    if "\x00" in value:
        raise ValidationFailed(fields={field: [_("不能包含空字符。")]})
    if required and not value:
        raise ValidationFailed(fields={field: [_("此字段为必填项。")]})
    if len(value) > max_length:
        raise ValidationFailed(fields={field: [_("最多 %(n)d 个字符。") % {"n": max_length}]})
    return value


def _amount(value, field) -> Decimal:
    try:
        amount = Decimal(str(value if value is not None else 0))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(fields={field: [_("请输入金额。")]}) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise ValidationFailed(fields={field: [_("金额必须是 0 到 9999999999 之间的数。")]})
    return amount.quantize(Decimal("0.01"))


def add_working_days(start: datetime, days: int) -> datetime:
    """`days` working days (Monday to Friday) after `start` (public holidays are not known here)."""
    current, left = start, int(days)
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


# --- the step's frame ---------------------------------------------------------------------------

def _step_due(status: str, now: datetime, case: Case) -> datetime | None:
    if status in FINAL_STATUSES:
        return None
    days = _setting("CASES_STEP_DAYS", {}).get(status)
    due = now + timedelta(days=days) if days else None
    if status in (Status.FILED, Status.INVESTIGATION, Status.REVIEW, Status.APPROVED, Status.NOTIFIED,
                  Status.LEGAL_REVIEW):
        due = min(d for d in (due, case.decision_due_at) if d is not None)  # the decision's limit bounds each
    return due


def _officer(actor) -> Officer | None:
    if not getattr(actor, "is_authenticated", False):
        return None
    return Officer.objects.filter(user=actor).first()


def _is_handler(actor, case: Case) -> bool:
    officer = _officer(actor)
    return officer is not None and case.handlers.filter(pk=officer.pk).exists()


def _by_handler(what):
    def check(actor, case):
        if getattr(actor, "is_superuser", False):
            return
        if not _is_handler(actor, case):
            raise Forbidden(_("只有本案承办人可以%(what)s。") % {"what": what})
    return check


def _by_leader(what):
    def check(actor, case):
        if not has_role(actor, TEAM_LEADER) or not grid_selectors.user_covers_area(actor, case.street):
            raise Forbidden(_("只有本街道执法队长可以%(what)s。") % {"what": what})
    return check


def _by_bureau_not_handler(what):
    def check(actor, case):
        if not has_role(actor, BUREAU_STAFF):
            raise Forbidden(_("只有区综合执法局工作人员可以%(what)s。") % {"what": what})
        if _is_handler(actor, case):
            raise Forbidden(_("承办人不能%(what)s。") % {"what": what})
    return check


def _lock(actor, case, expected_version, check, allowed, *, transfer_ok=False) -> Case:
    """Lock the case row and run the checks (see the module's docstring)."""
    case_id = case.pk if isinstance(case, Case) else case
    locked = Case.objects.select_for_update().filter(pk=case_id).first()
    if locked is None or not selectors.cases_for(actor).filter(pk=case_id).exists():
        raise NotFound(_("案件不存在。"))
    case = Case.objects.select_related("street", "subject").get(pk=case_id)
    check(actor, case)
    if expected_version is not None and int(expected_version) != case.version:
        raise PreconditionFailed(_("案件已被他人修改，请刷新后重试。"), code="stale_version")
    if case.status not in allowed:
        raise Conflict(_("案件当前状态（%(status)s）不能进行此操作。") % {"status": case.get_status_display()},
                       code="illegal_step")
    if not transfer_ok and Transfer.objects.filter(case=case, status=TransferStatus.PENDING).exists():
        raise Conflict(_("案件正在移送，等待对方接收。"), code="transfer_pending")
    return case


def _record(case: Case, step: str, actor, *, from_status="", to_status="", note="", data=None, at=None):
    at = at or timezone.now()
    CaseRecord.objects.create(
        case=case, step=step, actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=audit.actor_label(actor), at=at, from_status=from_status, to_status=to_status, note=note,
        data=data or {})


def _finish(case: Case, actor, step: str, *, before: str, note="", data=None, now=None, audit_changes=None):
    """Bump the version, set the step's deadline, write the record line and the audit entry."""
    now = now or timezone.now()
    if case.status != before:
        case.step_due_at = _step_due(case.status, now, case)
        case.overdue = False
        case.reminded_at = None
    case.version = F("version") + 1
    case.save()
    case.refresh_from_db(fields=["version", "updated_at"])
    _record(case, step, actor, from_status=before, to_status=case.status, note=note, data=data, at=now)
    changes = {"status": [before, case.status]} if before != case.status else {}
    changes.update(audit_changes or {})
    audit.record(actor, f"case.{step}", case, changes=changes)
    transaction.on_commit(lambda: signals.case_changed.send(sender=Case, case_id=case.pk, step=step))
    return case


# --- filing -------------------------------------------------------------------------------------

def catalog_version_on(day: date) -> CatalogVersion:
    """The catalog version in force on `day`: the last one published by the end of that day (the first
    published one for facts older than every version)."""
    published = CatalogVersion.objects.exclude(status=VersionStatus.DRAFT).filter(published_at__isnull=False)
    version = published.filter(published_at__date__lte=day).order_by("-published_at").first()
    version = version or published.order_by("published_at").first()
    if version is None:
        raise Conflict(_("尚未发布事项清单，无法立案。"), code="no_catalog")
    return version


def _next_number(street: Area, year: int) -> str:
    """The next number of the street's year, under the counter row's lock (no gap, no repeat)."""
    try:
        with transaction.atomic():
            CaseCounter.objects.get_or_create(street=street, year=year)
    except IntegrityError:  # a concurrent filing created it first
        pass
    counter = CaseCounter.objects.select_for_update().get(street=street, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{street.code}-{year}-{counter.last:04d}"


def _handlers(handler_ids, street: Area) -> list[Officer]:
    ids = []
    for raw in handler_ids or []:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationFailed(fields={"handler_ids": [_("承办人编号无效。")]}) from None
    ids = sorted(set(ids))
    if len(ids) < MIN_HANDLERS:
        raise ValidationFailed(fields={"handler_ids": [_("承办人不少于两人（行政处罚法第四十二条）。")]})
    officers = list(Officer.objects.filter(pk__in=ids, team__street=street).select_related("team"))
    if len(officers) != len(ids):
        raise ValidationFailed(fields={"handler_ids": [_("承办人须是本街道执法队的队员。")]})
    return officers


def _matters(matter_codes, version: CatalogVersion) -> list[Matter]:
    codes = []
    for c in matter_codes or []:
        c = str(c).strip()
        if c and c not in codes:
            codes.append(c)
    if not codes:
        raise ValidationFailed(fields={"matter_codes": [_("至少选择一个执法事项。")]})
    found = {m.code: m for m in Matter.objects.filter(version=version, code__in=codes).select_related("department")}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationFailed(fields={"matter_codes": [
            _("事项清单 V%(v)d 中没有这些事项：%(codes)s。") % {"v": version.number, "codes": "、".join(missing)}]})
    return [found[c] for c in codes]


def _finding_to_file(actor, finding_id) -> Finding:
    """The finding a case is filed from: one the actor may see (else 404), failed and current (else 400),
    not filed yet (else 409). Its row is locked, so two filings of it queue."""
    if finding_id is None:
        raise ValidationFailed(fields={"finding": [_("检查发现来源的案件须指明检查发现。")]})
    row = inspection_selectors.get_finding_for(actor, finding_id)
    if row.result != InspectionResult.FAIL:
        raise ValidationFailed(fields={"finding": [_("该检查结果不是不合格，不能立案。")]})
    if getattr(row, "corrected_by", None) is not None:
        raise ValidationFailed(fields={"finding": [_("该检查结果已被更正，请以更正后的记录为准。")]})
    Finding.objects.select_for_update().filter(pk=row.pk).first()
    if Case.objects.filter(finding=row).exists():
        raise Conflict(_("该检查发现已立案（一个检查发现一个案件）。"), code="already_filed")
    return row


def _finding_facts(row: Finding) -> str:
    text = _("%(day)s 检查发现不合格：%(item)s。") % {"day": timezone.localdate(row.recorded_at).isoformat(),
                                                  "item": row.item_text}
    return f"{text}{row.note}" if row.note else text


def _origin(origin: str, event_id, finding: Finding | None, origin_ref: str) -> dict:
    """Where the case came from: each origin is one branch."""
    if origin == Origin.EVENT:
        if event_id is None:
            raise ValidationFailed(fields={"event": [_("事件来源的案件须指明事件。")]})
        if Case.objects.filter(origin_event_id=event_id).exclude(status=Status.TRANSFERRED).exists():
            raise Conflict(_("该事件已立案（综合罚一次：一个事件一个案件）。"), code="already_filed")
        return {"origin": origin, "origin_event_id": int(event_id), "origin_ref": origin_ref or f"event:{event_id}"}
    if origin == Origin.FINDING:
        return {"origin": origin, "origin_event_id": None, "finding": finding,
                "origin_ref": origin_ref or f"finding:{finding.pk}"}
    if origin == Origin.DIRECT:
        return {"origin": origin, "origin_event_id": None, "origin_ref": origin_ref or ""}
    raise ValidationFailed(fields={"origin": [_("未知的案件来源。")]})


@transaction.atomic
def file_case(actor, *, party_kind: str, handler_ids, facts: str = "", facts_on: date | None = None,
              matter_codes=None, subject: Subject | None = None, street: Area | None = None, person_name: str = "",
              person_id_number: str = "", person_phone: str = "", procedure: str = Procedure.GENERAL,
              origin: str = Origin.DIRECT, event_id=None, finding=None, origin_ref: str = "") -> Case:
    """File a case (立案) against a subject or a person, with its matters, facts and two or more handlers.
    The street is the subject's (or, for a person, the one given); the number is the street's next.
    From an inspection finding (`origin=finding`, `finding` its id): the finding gives the subject, the
    street, the matter (its checklist item's), the facts and their day (matters and facts may be given
    instead); its referral is marked taken up; one case per finding."""
    if not has_role(actor, *FILING_ROLES):
        raise Forbidden(_("您的角色不能立案。"))
    row = None
    if origin == Origin.FINDING:
        row = _finding_to_file(actor, finding)
        subject, street = row.visit.subject, None
        party_kind = party_kind or PartyKind.BUSINESS
        facts = facts or _finding_facts(row)
        facts_on = facts_on or timezone.localdate(row.recorded_at)
        matter_codes = matter_codes or ([row.matter_code] if row.matter_code else [])
    facts = _text(facts, "facts", max_length=TEXT_MAX)
    origin_fields = _origin(origin, event_id, row, _text(origin_ref, "origin_ref", required=False, max_length=255))
    if procedure not in Procedure.values:
        raise ValidationFailed(fields={"procedure": [_("未知的程序。")]})
    if facts_on is None:
        raise ValidationFailed(fields={"facts_on": [_("请填写违法行为发生日。")]})
    if not isinstance(facts_on, date) or facts_on > timezone.localdate():
        raise ValidationFailed(fields={"facts_on": [_("违法行为发生日不能晚于今天。")]})
    party = {"person_name": "", "person_id_number": "", "person_phone": ""}
    if party_kind == PartyKind.BUSINESS:
        if subject is None:
            raise ValidationFailed(fields={"subject": [_("单位当事人须选择管理对象。")]})
        street = grid_selectors.street_of(subject.grid)
    elif party_kind == PartyKind.PERSON:
        party = {"person_name": _text(person_name, "person_name", max_length=50),
                 "person_id_number": _text(person_id_number, "person_id_number", required=False, max_length=32),
                 "person_phone": _text(person_phone, "person_phone", required=False, max_length=32)}
        if street is None and subject is not None:
            street = grid_selectors.street_of(subject.grid)
        if street is None:
            raise ValidationFailed(fields={"street": [_("个人当事人须指明镇街。")]})
    else:
        raise ValidationFailed(fields={"party_kind": [_("未知的当事人类型。")]})
    if street is None or street.kind != AreaKind.STREET:
        raise ValidationFailed(fields={"street": [_("须为镇街。")]})
    if not grid_selectors.user_covers_area(actor, street):
        raise NotFound(_("镇街不存在。"))
    version = catalog_version_on(facts_on)
    matters = _matters(matter_codes, version)
    officers = _handlers(handler_ids, street)
    now = timezone.now()
    try:
        with transaction.atomic():
            case = Case.objects.create(
                number=_next_number(street, timezone.localtime(now).year), street=street, status=Status.FILED,
                procedure=procedure, party_kind=party_kind, subject=subject, facts=facts, facts_on=facts_on,
                catalog_version=version, filed_by=actor if getattr(actor, "is_authenticated", False) else None,
                filed_at=now, decision_due_at=now + timedelta(days=int(_setting("CASES_DECISION_DAYS", 90))),
                **party, **origin_fields)
    except IntegrityError:  # a concurrent filing took the finding first (case_one_per_finding)
        if row is None:
            raise
        raise Conflict(_("该检查发现已立案（一个检查发现一个案件）。"), code="already_filed") from None
    case.step_due_at = _step_due(Status.FILED, now, case)
    case.save(update_fields=["step_due_at"])
    case.handlers.set(officers)
    for m in matters:
        first = subject is not None and selectors.earlier_violations(subject.pk, m.code, exclude_case_id=case.pk) == 0
        CaseMatter.objects.create(case=case, matter=m, department_id=m.department_id, first_violation=first)
    data = {"matters": [m.code for m in matters], "handlers": [o.pk for o in officers], "origin": origin,
            "catalog_version": version.number}
    changes = {"status": [None, Status.FILED], "number": [None, case.number], "street": [None, street.pk],
               "matters": [None, data["matters"]]}
    if row is not None:
        data["finding"] = row.pk
        changes["finding"] = [None, row.pk]
        inspection_services.take_up_referral(actor, finding=row)
    _record(case, Step.FILE, actor, to_status=Status.FILED, data=data, at=now)
    audit.record(actor, "case.filed", case, changes=changes)
    transaction.on_commit(lambda: signals.case_changed.send(sender=Case, case_id=case.pk, step=Step.FILE))
    return case


# --- investigation and review ---------------------------------------------------------------------

@transaction.atomic
def investigate(actor, case, *, expected_version=None) -> Case:
    case = _lock(actor, case, expected_version, _by_handler(_("开始调查")), (Status.FILED,))
    case.status = Status.INVESTIGATION
    return _finish(case, actor, Step.INVESTIGATE, before=Status.FILED)


EVIDENCE_STATUSES = (Status.FILED, Status.INVESTIGATION, Status.NOTIFIED, Status.LEGAL_REVIEW)


@transaction.atomic
def add_evidence(actor, case, *, file, kind: str, note: str = "", expected_version=None) -> Evidence:
    """Add a file to the evidence (append-only: its SHA-256, who, when)."""
    case = _lock(actor, case, expected_version, _by_handler(_("添加证据")), EVIDENCE_STATUSES)
    if kind not in EvidenceKind.values:
        raise ValidationFailed(fields={"kind": [_("未知的证据类型。")]})
    note = _text(note, "note", required=False, max_length=255)
    size = getattr(file, "size", None) or 0
    if not size:
        raise ValidationFailed(fields={"file": [_("文件为空。")]})
    if size > int(_setting("CASES_EVIDENCE_MAX_BYTES", 50 * 1024 * 1024)):
        raise ValidationFailed(fields={"file": [_("文件过大。")]})
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    name = _text(getattr(file, "name", "") or "evidence", "file", max_length=255)
    now = timezone.now()
    evidence = Evidence.objects.create(case=case, kind=kind, file=file, name=name, size=size,
                                       sha256=digest.hexdigest(), note=note, added_by=actor, added_at=now)
    _finish(case, actor, Step.EVIDENCE, before=case.status, note=note, now=now,
            data={"evidence": evidence.pk, "name": name, "sha256": evidence.sha256, "size": size},
            audit_changes={"evidence": [None, evidence.sha256]})
    return evidence


def _clean_outcomes(case: Case, outcomes) -> list[tuple[CaseMatter, dict]]:
    """Each of the case's matters with its outcome: a fine within the matter's legal range, or no penalty
    on a lenient ground the district's lists allow for it (首违 only when it is the first), or a reduced
    fine with its reason; under the simple procedure only a warning or a small fine."""
    rows = list(case.matters.select_related("matter").order_by("id"))
    given = {}
    for i, item in enumerate(outcomes or []):
        code = str((item or {}).get("matter_code", "")).strip()
        if code in given:
            raise ValidationFailed(fields={f"outcomes.{i}.matter_code": [_("事项重复。")]})
        given[code] = (i, item)
    missing = [r.matter.code for r in rows if r.matter.code not in given]
    extra = [c for c in given if c not in {r.matter.code for r in rows}]
    if missing or extra:
        raise ValidationFailed(fields={"outcomes": [
            _("须为本案每个事项给出处理结果（缺少：%(m)s；多余：%(e)s）。") % {
                "m": "、".join(missing) or "-", "e": "、".join(extra) or "-"}]})
    allowed = selectors.lenient_grounds([r.matter.code for r in rows])
    out, errors = [], {}
    for row in rows:
        i, item = given[row.matter.code]
        key = f"outcomes.{i}"
        outcome = item.get("outcome")
        ground = item.get("lenient_ground") or ""
        measures = _text(item.get("measures"), f"{key}.measures", required=False, max_length=255)
        reason = _text(item.get("reason"), f"{key}.reason", required=False)
        fine = _amount(item.get("fine"), f"{key}.fine")
        m = row.matter
        if outcome not in Outcome.values:
            errors[f"{key}.outcome"] = [_("未知的处理结果。")]
            continue
        if outcome == Outcome.NO_PENALTY:
            if ground not in (LenientGround.MINOR, LenientGround.FIRST, LenientGround.MEDIATED):
                errors[f"{key}.lenient_ground"] = [_("不予处罚须选择从轻情形（轻微、首违或调解）。")]
            elif ground not in allowed.get(m.code, set()):
                errors[f"{key}.lenient_ground"] = [_("事项 %(code)s 不在免罚清单（%(ground)s）上。") % {
                    "code": m.code, "ground": LenientGround(ground).label}]
            elif ground == LenientGround.FIRST and (
                    case.subject_id is None
                    or selectors.earlier_violations(case.subject_id, m.code, exclude_case_id=case.pk)):
                errors[f"{key}.lenient_ground"] = [_("当事人此前已因该事项受过处罚，不属首次违法。")]
            if fine:
                errors[f"{key}.fine"] = [_("不予处罚时罚款须为 0。")]
        else:
            if ground:
                errors[f"{key}.lenient_ground"] = [_("只有不予处罚可以选择免罚情形。")]
            if outcome == Outcome.REDUCED and not reason:
                errors[f"{key}.reason"] = [_("公益减罚须说明理由。")]
            if m.fine_max is None and fine:
                errors[f"{key}.fine"] = [_("事项 %(code)s 未规定罚款。") % {"code": m.code}]
            elif m.fine_max is not None and fine > m.fine_max:
                errors[f"{key}.fine"] = [_("罚款不能超过法定上限 %(max)s 元。") % {"max": m.fine_max}]
            elif outcome == Outcome.PENALTY and m.fine_min is not None and fine and fine < m.fine_min:
                errors[f"{key}.fine"] = [_("罚款不能低于法定下限 %(min)s 元（减轻处罚请选择公益减罚并说明理由）。") % {
                    "min": m.fine_min}]
            if not fine and not measures:
                errors[f"{key}.measures"] = [_("处罚须有罚款金额或其他处理措施（如警告）。")]
        out.append((row, {"outcome": outcome, "lenient_ground": ground if outcome == Outcome.NO_PENALTY else "",
                          "fine": fine if outcome != Outcome.NO_PENALTY else Decimal("0"), "measures": measures,
                          "reason": reason}))
    if errors:
        raise ValidationFailed(fields=errors)
    if case.procedure == Procedure.SIMPLE:
        cap = Decimal(_setting("CASES_SIMPLE_FINE_BUSINESS" if case.party_kind == PartyKind.BUSINESS
                               else "CASES_SIMPLE_FINE_PERSON", 200))
        if sum(v["fine"] for _row, v in out) > cap:
            raise ValidationFailed(fields={"outcomes": [
                _("简易程序的罚款合计不能超过 %(cap)s 元，请按普通程序办理。") % {"cap": cap}]})
    return out


def _needs_legal_review(case: Case, outcomes) -> bool:
    default_over = Decimal(str(_setting("CASES_LEGAL_REVIEW_FINE_OVER", 50000)))
    for row, v in outcomes:
        over = row.matter.legal_review_fine_over if row.matter.legal_review_fine_over is not None else default_over
        if row.matter.major_decision or v["fine"] > over:
            return True
    return case.hearing_held


def _hearing_eligible(case: Case, outcomes) -> bool:
    name = "CASES_HEARING_FINE_BUSINESS" if case.party_kind == PartyKind.BUSINESS else "CASES_HEARING_FINE_PERSON"
    return sum(v["fine"] for _row, v in outcomes) >= Decimal(str(_setting(name, 10000)))


def _apply_outcomes(outcomes):
    for row, v in outcomes:
        for k, value in v.items():
            setattr(row, k, value)
        row.save(update_fields=list(v))


def _outcome_data(outcomes) -> list[dict]:
    return [{"matter": row.matter.code, "outcome": v["outcome"], "lenient_ground": v["lenient_ground"],
             "fine": str(v["fine"]), "measures": v["measures"], "reason": v["reason"]} for row, v in outcomes]


@transaction.atomic
def submit(actor, case, *, outcomes, note: str = "", expected_version=None) -> Case:
    """The handlers propose each matter's outcome and send the case to the team leader (审核)."""
    case = _lock(actor, case, expected_version, _by_handler(_("提交审核")), (Status.INVESTIGATION,))
    if case.procedure == Procedure.SIMPLE:
        raise Conflict(_("简易程序当场决定，无需审核。"), code="illegal_step")
    if not case.evidence.exists():
        raise Conflict(_("请先添加证据再提交审核。"), code="no_evidence")
    cleaned = _clean_outcomes(case, outcomes)
    _apply_outcomes(cleaned)
    case.legal_review_required = _needs_legal_review(case, cleaned)
    case.hearing_eligible = _hearing_eligible(case, cleaned)
    case.status = Status.REVIEW
    return _finish(case, actor, Step.SUBMIT, before=Status.INVESTIGATION, note=_text(note, "note", required=False),
                   data={"outcomes": _outcome_data(cleaned), "legal_review_required": case.legal_review_required})


@transaction.atomic
def approve(actor, case, *, note: str = "", expected_version=None) -> Case:
    case = _lock(actor, case, expected_version, _by_leader(_("审核案件")), (Status.REVIEW,))
    case.status = Status.APPROVED
    return _finish(case, actor, Step.APPROVE, before=Status.REVIEW, note=_text(note, "note", required=False))


@transaction.atomic
def return_case(actor, case, *, reason: str, expected_version=None) -> Case:
    """The team leader sends the case back to the handlers for rework (退回重办), saying why."""
    case = _lock(actor, case, expected_version, _by_leader(_("退回案件")), (Status.REVIEW,))
    reason = _text(reason, "reason")
    case.status = Status.INVESTIGATION
    return _finish(case, actor, Step.RETURN, before=Status.REVIEW, note=reason)


# --- notice, statement, hearing, legal review --------------------------------------------------------

@transaction.atomic
def notify(actor, case, *, expected_version=None) -> Case:
    """事先告知: the party is told the facts, grounds and rights (the notice is the document 告知书)."""
    case = _lock(actor, case, expected_version, _by_handler(_("事先告知")), (Status.APPROVED,))
    case.status = Status.NOTIFIED
    case.notified_at = timezone.now()
    return _finish(case, actor, Step.NOTIFY, before=Status.APPROVED, now=case.notified_at,
                   data={"hearing_eligible": case.hearing_eligible})


@transaction.atomic
def record_statement(actor, case, *, statement: str, adopted: bool = False, expected_version=None) -> Case:
    """The party's statement and defence (陈述申辩), and whether it was adopted."""
    case = _lock(actor, case, expected_version, _by_handler(_("记录陈述申辩")), (Status.NOTIFIED,))
    statement = _text(statement, "statement", max_length=TEXT_MAX)
    return _finish(case, actor, Step.STATEMENT, before=case.status, note=statement, data={"adopted": bool(adopted)})


@transaction.atomic
def record_hearing(actor, case, *, held_on: date, summary: str, expected_version=None) -> Case:
    """A hearing (听证) held at the party's request; afterwards the decision needs legal review."""
    case = _lock(actor, case, expected_version, _by_handler(_("记录听证")), (Status.NOTIFIED,))
    if not case.hearing_eligible:
        raise Conflict(_("本案拟处罚未达到听证标准。"), code="hearing_not_eligible")
    if case.hearing_held:
        raise Conflict(_("已记录听证。"), code="hearing_held")
    if not isinstance(held_on, date) or held_on > timezone.localdate():
        raise ValidationFailed(fields={"held_on": [_("听证日期不能晚于今天。")]})
    summary = _text(summary, "summary", max_length=TEXT_MAX)
    case.hearing_held = True
    case.legal_review_required = True
    return _finish(case, actor, Step.HEARING, before=case.status, note=summary, data={"held_on": held_on.isoformat()},
                   audit_changes={"hearing_held": [False, True]})


@transaction.atomic
def request_legal_review(actor, case, *, expected_version=None) -> Case:
    case = _lock(actor, case, expected_version, _by_handler(_("提交法制审核")), (Status.NOTIFIED,))
    case.status = Status.LEGAL_REVIEW
    case.legal_review_required = True
    case.legal_review_passed = False
    return _finish(case, actor, Step.REQUEST_LEGAL_REVIEW, before=Status.NOTIFIED)


@transaction.atomic
def legal_review(actor, case, *, opinion: str, reasons: str = "", expected_version=None) -> Case:
    """The legal officer's opinion (法制审核): agree, or return with reasons. Never by a handler."""
    case = _lock(actor, case, expected_version, _by_bureau_not_handler(_("进行法制审核")), (Status.LEGAL_REVIEW,))
    if case.legal_review_passed:
        raise Conflict(_("法制审核已同意，等待决定。"), code="illegal_step")
    if opinion == LegalOpinion.AGREE:
        reasons = _text(reasons, "reasons", required=False)
        case.legal_review_passed = True
    elif opinion == LegalOpinion.RETURN:
        reasons = _text(reasons, "reasons")
        case.status = Status.INVESTIGATION
    else:
        raise ValidationFailed(fields={"opinion": [_("审核意见须为同意或退回。")]})
    return _finish(case, actor, Step.LEGAL_REVIEW, before=Status.LEGAL_REVIEW, note=reasons,
                   data={"opinion": opinion}, audit_changes={"opinion": [None, opinion]})


# --- decision and after ----------------------------------------------------------------------------

def _decider():
    def check(actor, case):
        if case.procedure == Procedure.SIMPLE:
            if getattr(actor, "is_superuser", False) or _is_handler(actor, case):
                return
            _by_leader(_("作出决定"))(actor, case)
        else:
            _by_leader(_("作出决定"))(actor, case)
    return check


LENIENCY_OF = {LenientGround.MINOR: Leniency.MINOR, LenientGround.FIRST: Leniency.FIRST,
               LenientGround.MEDIATED: Leniency.MEDIATED}


def _post_violations(actor, case: Case, when):
    """One `violation` fact per matter of the decision, with its leniency, on the subject's credit."""
    if case.subject_id is None:
        return
    for row in case.matters.select_related("matter"):
        leniency = LENIENCY_OF.get(row.lenient_ground, "")
        if row.outcome == Outcome.REDUCED:
            leniency = Leniency.REDUCED
        text = f"{case.number} {row.matter.name}：{row.get_outcome_display()}"
        if row.fine:
            text += f" {row.fine}元"
        credit_facts.post_fact(case.subject_id, FactKind.VIOLATION, source_app="cases", source_model="casematter",
                               source_pk=row.pk, occurred_at=when, confirmed=True, leniency=leniency,
                               source_text=text[:255], actor=actor)


@transaction.atomic
def decide(actor, case, *, outcomes, decision_text: str = "", expected_version=None) -> Case:
    """The decision (决定), one for every matter of the case (综合罚一次). Under the general procedure
    by the team leader after the notice, and after legal review when it is required; under the simple
    procedure on the spot by the handlers."""
    probe = case if isinstance(case, Case) else Case.objects.filter(pk=case).first()
    procedure = probe.procedure if probe is not None else Procedure.GENERAL
    allowed = (Status.FILED, Status.INVESTIGATION) if procedure == Procedure.SIMPLE \
        else (Status.NOTIFIED, Status.LEGAL_REVIEW)
    case = _lock(actor, case, expected_version, _decider(), allowed)
    cleaned = _clean_outcomes(case, outcomes)
    if case.procedure == Procedure.GENERAL:
        required = case.legal_review_required or _needs_legal_review(case, cleaned)
        if required and not (case.status == Status.LEGAL_REVIEW and case.legal_review_passed):
            raise Conflict(_("该决定须先经法制审核同意。"), code="legal_review_required")
        if case.status == Status.LEGAL_REVIEW and not case.legal_review_passed:
            raise Conflict(_("法制审核尚未同意。"), code="legal_review_required")
        if _hearing_eligible(case, cleaned) and not case.hearing_eligible:
            raise Conflict(_("决定的罚款已达听证标准，须重新告知当事人听证权利。"), code="notice_required")
    _apply_outcomes(cleaned)
    before = case.status
    now = timezone.now()
    case.status = Status.DECIDED
    case.decided_at, case.decided_by = now, actor
    case.decision_text = _text(decision_text, "decision_text", required=False, max_length=TEXT_MAX)
    case.total_fine = sum((v["fine"] for _row, v in cleaned), Decimal("0"))
    case.disclose_by = add_working_days(now, int(_setting("CASES_DISCLOSURE_WORKING_DAYS", 7)))
    _post_violations(actor, case, now)
    return _finish(case, actor, Step.DECIDE, before=before, now=now, note=case.decision_text,
                   data={"outcomes": _outcome_data(cleaned), "total_fine": str(case.total_fine)},
                   audit_changes={"total_fine": [None, case.total_fine]})


def _publish(case: Case, now):
    if case.disclosed_at is None:
        case.disclosed_at = now
        case.disclosed_until = now + timedelta(days=int(_setting("CASES_DISCLOSURE_KEEP_DAYS", 1095)))


@transaction.atomic
def serve(actor, case, *, method: str, expected_version=None) -> Case:
    """The decision is served (送达) on the party; it is published (执法公示) from then."""
    case = _lock(actor, case, expected_version, _by_handler(_("送达")), (Status.DECIDED,))
    now = timezone.now()
    case.status, case.served_at = Status.SERVED, now
    case.service_method = _text(method, "method", max_length=50)
    _publish(case, now)
    return _finish(case, actor, Step.SERVE, before=Status.DECIDED, now=now, note=case.service_method)


def _has_execution(case: Case) -> bool:
    return case.matters.exclude(outcome=Outcome.NO_PENALTY).exists()


@transaction.atomic
def execute(actor, case, *, note: str, expected_version=None) -> Case:
    """The decision carried out (执行): the fine paid, the measure taken."""
    case = _lock(actor, case, expected_version, _by_handler(_("登记执行")), (Status.SERVED,))
    if not _has_execution(case):
        raise Conflict(_("不予处罚的案件无需执行，可直接结案。"), code="nothing_to_execute")
    now = timezone.now()
    case.status, case.executed_at = Status.EXECUTED, now
    case.execution_note = _text(note, "note")
    return _finish(case, actor, Step.EXECUTE, before=Status.SERVED, now=now, note=case.execution_note)


@transaction.atomic
def close(actor, case, *, note: str = "", expected_version=None) -> Case:
    case = _lock(actor, case, expected_version, _by_leader(_("结案")), (Status.SERVED, Status.EXECUTED))
    if case.status == Status.SERVED and _has_execution(case):
        raise Conflict(_("处罚尚未执行，不能结案。"), code="not_executed")
    before = case.status
    case.status, case.closed_at = Status.CLOSED, timezone.now()
    return _finish(case, actor, Step.CLOSE, before=before, now=case.closed_at,
                   note=_text(note, "note", required=False))


# --- transfer ----------------------------------------------------------------------------------------

TRANSFER_STATUSES = (Status.FILED, Status.INVESTIGATION, Status.REVIEW)


@transaction.atomic
def transfer(actor, case, *, target: str, reason: str, to_street_code: str = "", to_department_code: str = "",
             expected_version=None) -> Transfer:
    """Send the case to another department or street (案件移送); it moves when they accept."""
    case = _lock(actor, case, expected_version, _by_leader(_("移送案件")), TRANSFER_STATUSES)
    reason = _text(reason, "reason")
    fields = {}
    if target == TransferTarget.STREET:
        street = Area.objects.filter(code=str(to_street_code or ""), kind=AreaKind.STREET).first()
        if street is None:
            raise ValidationFailed(fields={"to_street": [_("镇街不存在。")]})
        if street.pk == case.street_id:
            raise ValidationFailed(fields={"to_street": [_("不能移送给本街道。")]})
        fields["to_street"] = street
    elif target == TransferTarget.DEPARTMENT:
        department = Department.objects.filter(code=str(to_department_code or "")).first()
        if department is None:
            raise ValidationFailed(fields={"to_department": [_("部门不存在。")]})
        fields["to_department"] = department
    else:
        raise ValidationFailed(fields={"target": [_("移送对象须为部门或镇街。")]})
    now = timezone.now()
    moved = Transfer.objects.create(case=case, target=target, reason=reason, requested_by=actor, requested_at=now,
                                    **fields)
    _finish(case, actor, Step.TRANSFER, before=case.status, now=now, note=reason,
            data={"transfer": moved.pk, "target": target, "to": to_street_code or to_department_code})
    return moved


def _receiver(actor, case):
    pending = Transfer.objects.filter(case=case, status=TransferStatus.PENDING).select_related("to_street").first()
    if pending is None:
        return
    if pending.target == TransferTarget.STREET:
        if not (has_role(actor, TEAM_LEADER) and grid_selectors.user_covers_area(actor, pending.to_street)):
            raise Forbidden(_("只有接收街道的执法队长可以接收移送。"))
    elif not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以代接收部门接收移送。"))


@transaction.atomic
def answer_transfer(actor, case, *, accept: bool, note: str = "", handler_ids=None, expected_version=None) -> Case:
    """The receiving side accepts (a street names its own two handlers; the case keeps its number) or
    refuses, saying why (the case stays where it was)."""
    case = _lock(actor, case, expected_version, _receiver, tuple(Status), transfer_ok=True)
    pending = Transfer.objects.select_for_update().filter(case=case, status=TransferStatus.PENDING).first()
    if pending is None:
        raise Conflict(_("没有待接收的移送。"), code="no_transfer")
    now = timezone.now()
    before = case.status
    if not accept:
        note = _text(note, "note")
        pending.status = TransferStatus.REFUSED
    else:
        note = _text(note, "note", required=False)
        pending.status = TransferStatus.ACCEPTED
        if pending.target == TransferTarget.STREET:
            officers = _handlers(handler_ids, pending.to_street)
            case.street = pending.to_street
            case.status = Status.INVESTIGATION
            case.handlers.set(officers)
        else:
            case.status = Status.TRANSFERRED
    pending.answered_by, pending.answered_at, pending.answer_note = actor, now, note
    pending.save(update_fields=["status", "answered_by", "answered_at", "answer_note"])
    return _finish(case, actor, Step.ACCEPT_TRANSFER if accept else Step.REFUSE_TRANSFER, before=before, now=now,
                   note=note, data={"transfer": pending.pk}, audit_changes={"transfer": [None, pending.status]})


# --- appeal ------------------------------------------------------------------------------------------

def _appeal_recorder(actor, case):
    if not has_role(actor, TEAM_LEADER, BUREAU_STAFF):
        raise Forbidden(_("只有执法队长或区综合执法局工作人员可以登记、办理复议/申诉。"))


def _source_refs(case: Case):
    return [("cases", "casematter", pk) for pk in case.matters.values_list("pk", flat=True)]


@transaction.atomic
def appeal(actor, case, *, kind: str, grounds: str, lodged_on: date | None = None, expected_version=None) -> Appeal:
    """The party contests the decision (复议/申诉): recorded; the subject's credit is "under review"."""
    case = _lock(actor, case, expected_version, _appeal_recorder, DECIDED_STATUSES)
    if kind not in AppealKind.values:
        raise ValidationFailed(fields={"kind": [_("未知的类型。")]})
    grounds = _text(grounds, "grounds", max_length=TEXT_MAX)
    if Appeal.objects.filter(case=case, result=AppealResult.PENDING).exists():
        raise Conflict(_("已有未决的复议/申诉。"), code="appeal_open")
    now = timezone.now()
    if lodged_on is not None and (not isinstance(lodged_on, date) or lodged_on > timezone.localdate()):
        raise ValidationFailed(fields={"lodged_on": [_("日期不能晚于今天。")]})
    lodged_at = now if lodged_on is None else timezone.make_aware(datetime.combine(lodged_on, datetime.min.time()))
    item = Appeal.objects.create(case=case, kind=kind, grounds=grounds, lodged_at=lodged_at, recorded_by=actor,
                                 due_at=lodged_at + timedelta(days=int(_setting("CASES_APPEAL_DAYS", 60))))
    for app, model, pk in _source_refs(case):
        credit_facts.set_contested(source_app=app, source_model=model, source_pk=pk, contested=True,
                                   reason=_("案件 %(n)s 复议/申诉中") % {"n": case.number}, actor=actor)
    _finish(case, actor, Step.APPEAL, before=case.status, now=now, note=grounds,
            data={"appeal": item.pk, "kind": kind})
    return item


@transaction.atomic
def decide_appeal(actor, case, *, result: str, note: str, expected_version=None) -> Appeal:
    """The appeal's outcome: upheld or changed (the facts stand), or revoked (the credit facts are
    withdrawn and the disclosure taken down)."""
    case = _lock(actor, case, expected_version, _appeal_recorder, DECIDED_STATUSES)
    item = Appeal.objects.select_for_update().filter(case=case, result=AppealResult.PENDING).first()
    if item is None:
        raise Conflict(_("没有未决的复议/申诉。"), code="no_appeal")
    if result not in (AppealResult.UPHELD, AppealResult.REVOKED, AppealResult.CHANGED):
        raise ValidationFailed(fields={"result": [_("结果须为维持、撤销或变更。")]})
    note = _text(note, "note")
    now = timezone.now()
    item.result, item.result_note, item.decided_by, item.decided_at = result, note, actor, now
    item.save(update_fields=["result", "result_note", "decided_by", "decided_at"])
    why = _("复议/申诉结果：%(r)s（%(n)s）") % {"r": AppealResult(result).label, "n": case.number}
    for app, model, pk in _source_refs(case):
        credit_facts.set_contested(source_app=app, source_model=model, source_pk=pk, contested=False, reason=why,
                                   actor=actor)
        if result == AppealResult.REVOKED:
            credit_facts.withdraw_fact(source_app=app, source_model=model, source_pk=pk, reason=why, actor=actor)
    if result == AppealResult.REVOKED and case.disclosed_at is not None:
        case.disclosure_withdrawn_at = now
    _finish(case, actor, Step.APPEAL_DECIDED, before=case.status, now=now, note=note,
            data={"appeal": item.pk, "result": result}, audit_changes={"appeal_result": [None, result]})
    return item


# --- quality review, personal data, exports ------------------------------------------------------------

@transaction.atomic
def quality_review(actor, case, *, scores: dict, comment: str = "", expected_version=None) -> QualityReview:
    """A reviewer scores a closed case against the checklist (案卷评查), every active item once."""
    case = _lock(actor, case, expected_version, _by_bureau_not_handler(_("评查案卷")), (Status.CLOSED,))
    items = selectors.checklist()
    if not items:
        raise Conflict(_("尚未设置评查项目。"), code="no_checklist")
    scores = scores if isinstance(scores, dict) else {}
    rows, errors = [], {}
    for item in items:
        value = scores.get(item.code)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= item.max_points:
            errors[f"scores.{item.code}"] = [_("须为 0 到 %(max)d 的整数。") % {"max": item.max_points}]
            continue
        rows.append({"code": item.code, "text": item.text, "max": item.max_points, "points": value})
    unknown = set(scores) - {i.code for i in items}
    if unknown:
        errors["scores"] = [_("未知的评查项目：%(c)s。") % {"c": "、".join(sorted(map(str, unknown)))}]
    if errors:
        raise ValidationFailed(fields=errors)
    if QualityReview.objects.filter(case=case, reviewer=actor).exists():
        raise Conflict(_("您已评查过本案。"), code="reviewed")
    now = timezone.now()
    review = QualityReview.objects.create(
        case=case, reviewer=actor, scores=rows, total=sum(r["points"] for r in rows),
        max_total=sum(r["max"] for r in rows), comment=_text(comment, "comment", required=False), reviewed_at=now)
    _finish(case, actor, Step.QUALITY_REVIEW, before=case.status, now=now, note=review.comment,
            data={"review": review.pk, "total": review.total, "max_total": review.max_total})
    return review


@transaction.atomic
def record_view(actor, case: Case, *, what: str):
    """A handler saw the private party's data in full: recorded (全过程记录), not a change of the case."""
    _record(case, Step.VIEW_PERSONAL, actor, note=what)
    audit.record(actor, "case.view_personal", case, changes={"what": [None, what]})


DOCUMENT_READY = {"notice": (Status.NOTIFIED, Status.LEGAL_REVIEW) + DECIDED_STATUSES, "decision": DECIDED_STATUSES}


@transaction.atomic
def export_document(actor, case_id, *, kind: str) -> tuple[Case, bytes]:
    """Render a document of the case (documents.KINDS) and record the export (全过程记录)."""
    case = selectors.get_case_for(actor, case_id, detail=True)
    if kind not in documents.KINDS:
        raise NotFound(_("文书不存在。"))
    if kind in DOCUMENT_READY and case.status not in DOCUMENT_READY[kind]:
        raise Conflict(_("案件尚未到达该文书的环节。"), code="not_ready")
    body = documents.render(case, kind, full_party=selectors.may_see_person(actor, case))
    _record(case, Step.EXPORT, actor, note=kind, data={"document": kind, "bytes": len(body)})
    audit.record(actor, "case.export", case, changes={"document": [None, kind]})
    return case, body


# --- deadlines and disclosure (the periodic task) ---------------------------------------------------------

@transaction.atomic
def check_deadlines(*, now=None) -> dict:
    """Flag cases past their step's deadline, remind the leader once of those due soon or past, and
    publish decisions whose disclosure date has come. Returns the counts."""
    now = now or timezone.now()
    open_cases = Case.objects.exclude(status__in=FINAL_STATUSES)
    flagged = open_cases.filter(step_due_at__lt=now, overdue=False).update(overdue=True)
    due = list(open_cases.filter(selectors.due_soon_q(now), reminded_at__isnull=True)
               .values("pk", "number", "street_id", "status", "step_due_at", "overdue"))
    if due:
        Case.objects.filter(pk__in=[c["pk"] for c in due]).update(reminded_at=now)
        for c in due:
            CaseRecord.objects.create(case_id=c["pk"], step=Step.REMINDER, actor=None, actor_label="system", at=now,
                                      note=_("期限提醒：%(due)s") % {"due": timezone.localtime(c["step_due_at"])
                                                                    .strftime("%Y-%m-%d %H:%M")},
                                      data={"overdue": c["overdue"] or c["step_due_at"] < now})
        rows = [{"id": c["pk"], "number": c["number"], "street_id": c["street_id"], "status": c["status"],
                 "due_at": c["step_due_at"].isoformat(), "overdue": c["step_due_at"] < now} for c in due]
        transaction.on_commit(lambda: signals.deadlines_due.send(sender=Case, cases=rows))
    published = 0
    for case in Case.objects.select_for_update().filter(status__in=DECIDED_STATUSES, disclosed_at__isnull=True,
                                                        disclose_by__lte=now):
        _publish(case, now)
        case.save(update_fields=["disclosed_at", "disclosed_until"])
        published += 1
    return {"overdue": flagged, "reminded": len(due), "published": published}
