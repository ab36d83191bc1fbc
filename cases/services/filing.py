"""Filing (立案): the catalog version in force, the street's number under a lock, the handlers, the
matters, and where the case came from (an event, an inspection finding, or directly)."""
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import selectors, signals
from cases.choices import Origin, PartyKind, Procedure, Status, Step
from cases.models import Case, CaseCounter, CaseMatter
from cases.services.common import FILING_ROLES, MIN_HANDLERS, TEXT_MAX, _record, _setting, _step_due, _text
from core import audit
from core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from core.roles import has_role
from enforcement.choices import VersionStatus
from enforcement.models import CatalogVersion, Matter
from grids import selectors as grid_selectors
from grids.choices import AreaKind
from grids.models import Area, Officer, Subject
from inspections import selectors as inspection_selectors
from inspections import services as inspection_services
from inspections.choices import Result as InspectionResult
from inspections.models import Finding


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
