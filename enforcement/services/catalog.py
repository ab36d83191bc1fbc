"""Catalog versions, matters, delegations and tier templates: every write, one transaction, audit records.

Edits land in the single open draft version; `publish_draft` makes it the current version at once. Revoking a
delegation is the one change that takes effect on the published version immediately (a revocation cannot
wait for the next edition).
"""
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.exceptions import Conflict, NotFound, Unprocessable, ValidationFailed
from core.unset import UNCHANGED, given
from enforcement import routing
from enforcement.choices import DelegationSource, MatterKind, MatterStatus, VersionStatus
from enforcement.models import CatalogVersion, Delegation, Matter, ProblemType, TierTemplate
from enforcement.services.access import require_catalog_editor
from grids.choices import AreaKind, StreetTier
from grids.models import Area, Department

MATTER_FIELDS = ("code", "name", "law", "article", "department", "kind", "domain", "non_site", "major_decision", "status",
                 "fine_min", "fine_max", "legal_review_fine_over")
DELEGATION_FIELDS = ("matter", "street", "tier", "effective_from", "effective_to", "source", "revoked_at", "revoke_reason")
# The code format shared by every catalog row (matters, problem types, checklists, scenarios).
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
CODE_FORMAT_MESSAGE = gettext_lazy("编码只能包含字母、数字、点、下划线和短横线。")


# --- Versions ---------------------------------------------------------------------------------

def _copy_version_rows(source: CatalogVersion, target: CatalogVersion):
    ids = {}
    for m in Matter.objects.filter(version=source).order_by("id"):
        old = m.pk
        m.pk = None
        m.version = target
        m.save()
        ids[old] = m.pk
    # bulk_create for the delegations: thousands of rows, no per-row logic.
    Delegation.objects.bulk_create([
        Delegation(
            matter_id=ids[d.matter_id], street_id=d.street_id, tier=d.tier, effective_from=d.effective_from,
            effective_to=d.effective_to, source=d.source, revoked_at=d.revoked_at, revoked_by_id=d.revoked_by_id,
            revoke_reason=d.revoke_reason, created_by_id=d.created_by_id,
        )
        for d in Delegation.objects.filter(matter__version=source).order_by("id").iterator(chunk_size=2000)
    ], batch_size=1000)


@transaction.atomic
def open_draft(actor, *, note: str = "") -> CatalogVersion:
    """The one open draft; opened as a copy of the current published version when there is none."""
    require_catalog_editor(actor)
    draft = CatalogVersion.objects.select_for_update().filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        return draft
    published = CatalogVersion.objects.filter(status=VersionStatus.PUBLISHED).first()
    number = (CatalogVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    try:
        with transaction.atomic():
            draft = CatalogVersion.objects.create(
                number=number, status=VersionStatus.DRAFT, note=note or "", based_on=published,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        # Another request opened it a moment ago: use theirs.
        draft = CatalogVersion.objects.filter(status=VersionStatus.DRAFT).first()
        if draft is None:
            raise Conflict(_("草稿创建冲突，请重试。"))
        return draft
    if published is not None:
        _copy_version_rows(published, draft)
    audit.record(actor, "catalog.draft_opened", draft, changes={
        "number": [None, draft.number], "based_on": [None, published.number if published else None]})
    return draft


def _check_publishable(draft: CatalogVersion):
    codes = set(Matter.objects.filter(version=draft).values_list("code", flat=True))
    if not codes:
        raise Unprocessable(fields={"version": [_("草稿中没有任何事项，不能发布。")]})
    missing = sorted(
        f"{code}（{pt}）" for pt, code in ProblemType.objects.filter(active=True).values_list("code", "matter_code")
        if code not in codes
    )
    if missing:
        raise Unprocessable(fields={"version": [_("以下问题类型关联的事项不在草稿中：%(missing)s。")
            % {"missing": '、'.join(missing[:20])}]})


@transaction.atomic
def publish_draft(actor, *, note: str | None = None) -> CatalogVersion:
    """Make the open draft the current version, in one transaction; the previous one is archived (still readable)."""
    require_catalog_editor(actor)
    draft = CatalogVersion.objects.select_for_update().filter(status=VersionStatus.DRAFT).first()
    if draft is None:
        raise Conflict(_("没有待发布的草稿版本。"))
    _check_publishable(draft)
    now = timezone.now()
    previous = CatalogVersion.objects.select_for_update().filter(status=VersionStatus.PUBLISHED).first()
    if previous is not None:
        previous.status = VersionStatus.ARCHIVED
        previous.archived_at = now
        previous.save(update_fields=["status", "archived_at"])
        audit.record(actor, "catalog.archived", previous, changes={"status": [VersionStatus.PUBLISHED, VersionStatus.ARCHIVED]})
    before_note = draft.note
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = now
    draft.published_by = actor if getattr(actor, "is_authenticated", False) else None
    if note is not None:
        draft.note = note
    draft.save(update_fields=["status", "published_at", "published_by", "note"])
    changes = {"status": [VersionStatus.DRAFT, VersionStatus.PUBLISHED], "published_at": [None, now],
               "replaces": [None, previous.number if previous else None]}
    if draft.note != before_note:
        changes["note"] = [before_note, draft.note]
    audit.record(actor, "catalog.published", draft, changes=changes)
    routing.note_change()
    return draft


# --- Matters (in the draft) -------------------------------------------------------------------

def _department(code: str, field="department") -> Department:
    dept = Department.objects.filter(code=code).first() if code else None
    if dept is None:
        raise ValidationFailed(fields={field: [_("未知部门编码：%(code)s。") % {"code": code or ''}]})
    return dept


def known_fields(data: dict, allowed, *, required=()) -> tuple[dict, dict]:
    """The first step of every clean_*: keep the `allowed` fields (strings stripped) and flag the others and
    the missing `required` ones. Returns (fields, errors)."""
    out, errors = {}, {}
    for key, value in data.items():
        if key not in allowed:
            errors[key] = [_("不可修改的字段。")]
            continue
        out[key] = value.strip() if isinstance(value, str) else value
    for key in required:
        if out.get(key) in (None, ""):
            errors[key] = [_("此字段为必填项。")]
    return out, errors


def clean_matter(*, partial=False, code=UNCHANGED, name=UNCHANGED, law=UNCHANGED, department=UNCHANGED,
                 kind=UNCHANGED, domain=UNCHANGED, article=UNCHANGED, non_site=UNCHANGED, major_decision=UNCHANGED,
                 status=UNCHANGED, fine_min=UNCHANGED, fine_max=UNCHANGED, legal_review_fine_over=UNCHANGED) -> dict:
    """Normalise and check the given matter fields (shared by the API, the admin and the importer); `partial`:
    an update, where no field is required."""
    data = given(code=code, name=name, law=law, department=department, kind=kind, domain=domain, article=article,
                 non_site=non_site, major_decision=major_decision, status=status, fine_min=fine_min, fine_max=fine_max,
                 legal_review_fine_over=legal_review_fine_over)
    out, errors = known_fields(data, MATTER_FIELDS,
                               required=() if partial else ("code", "name", "law", "department", "kind", "domain"))
    if out.get("code") and not CODE_RE.match(out["code"]):
        errors["code"] = [CODE_FORMAT_MESSAGE]
    if "kind" in out and out["kind"] and out["kind"] not in MatterKind.values:
        allowed = "、".join(f"{value}（{label}）" for value, label in MatterKind.choices)
        errors["kind"] = [_("未知事项类型：%(kind)s（可选：%(allowed)s）。") % {"kind": out["kind"], "allowed": allowed}]
    if "status" in out and out["status"] not in MatterStatus.values:
        errors["status"] = [_("未知状态：%(status)s。") % {"status": out['status']}]
    if out.get("department") not in (None, ""):
        try:
            out["department"] = _department(out["department"])
        except ValidationFailed as exc:
            errors.update(exc.fields)
    for key, limit in (("name", 255), ("law", 255), ("article", 100), ("domain", 32), ("code", 64)):
        if isinstance(out.get(key), str) and len(out[key]) > limit:
            errors[key] = [_("不能超过%(limit)s个字符。") % {"limit": limit}]
    _clean_fines(out, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _clean_fines(out: dict, errors: dict):
    """The fine range (yuan): non-negative amounts, the upper not below the lower."""
    for key in ("fine_min", "fine_max", "legal_review_fine_over"):
        if out.get(key) in (None, ""):
            if key in out:
                out[key] = None
            continue
        try:
            value = Decimal(str(out[key]))
        except (InvalidOperation, ValueError):
            errors[key] = [_("请输入金额。")]
            continue
        if not value.is_finite() or value < 0 or value >= Decimal("1e10"):
            errors[key] = [_("金额必须是 0 到 9999999999 之间的数。")]
            continue
        out[key] = value.quantize(Decimal("0.01"))
    low, high = out.get("fine_min"), out.get("fine_max")
    if isinstance(low, Decimal) and isinstance(high, Decimal) and high < low:
        errors["fine_max"] = [_("罚款上限不能低于下限。")]


@transaction.atomic
def create_matter(actor, *, code: str, name: str, law: str, department: str, kind: str, domain: str, article: str = "",
                  non_site: bool = False, major_decision: bool = False, status: str = MatterStatus.ACTIVE,
                  fine_min=None, fine_max=None, legal_review_fine_over=None) -> Matter:
    """A new matter in the draft; `department` is the department's code."""
    require_catalog_editor(actor)
    data = clean_matter(code=code, name=name, law=law, department=department, kind=kind, domain=domain,
                        article=article, non_site=non_site, major_decision=major_decision, status=status,
                        fine_min=fine_min, fine_max=fine_max, legal_review_fine_over=legal_review_fine_over)
    draft = open_draft(actor)
    if Matter.objects.filter(version=draft, code=data["code"]).exists():
        raise ValidationFailed(fields={"code": [_("事项编码 %(code)s 已存在于草稿 V%(draft_number)s。")
            % {"code": data['code'], "draft_number": draft.number}]})
    matter = Matter.objects.create(version=draft, **data)
    audit.record(actor, "matter.created", matter,
                 changes={k: [None, v] for k, v in audit.snapshot(matter, MATTER_FIELDS).items()})
    return matter


@transaction.atomic
def update_matter(actor, matter: Matter, *, code=UNCHANGED, name=UNCHANGED, law=UNCHANGED, department=UNCHANGED,
                  kind=UNCHANGED, domain=UNCHANGED, article=UNCHANGED, non_site=UNCHANGED, major_decision=UNCHANGED,
                  status=UNCHANGED, fine_min=UNCHANGED, fine_max=UNCHANGED, legal_review_fine_over=UNCHANGED) -> Matter:
    """Change the given fields of a matter row of the draft (published and archived rows are the record of what
    was in force). `department` is a department code; `code` may be given but never changes."""
    require_catalog_editor(actor)
    matter = Matter.objects.select_for_update().select_related("version").get(pk=matter.pk)
    if not matter.version.is_draft:
        raise Conflict(_("只能修改草稿版本中的事项；请先打开草稿。"))
    if code is not UNCHANGED and code != matter.code:
        raise ValidationFailed(fields={"code": [_("事项编码不可修改（它标识跨版本的同一事项）。")]})
    data = clean_matter(partial=True, name=name, law=law, department=department, kind=kind, domain=domain,
                        article=article, non_site=non_site, major_decision=major_decision, status=status,
                        fine_min=fine_min, fine_max=fine_max, legal_review_fine_over=legal_review_fine_over)
    before = audit.snapshot(matter, MATTER_FIELDS)
    for k, v in data.items():
        setattr(matter, k, v)
    matter.save()
    delta = audit.diff(before, audit.snapshot(matter, MATTER_FIELDS))
    if delta:
        audit.record(actor, "matter.updated", matter, changes=delta)
    return matter


# --- Delegations ------------------------------------------------------------------------------

def _street(code: str, field="street") -> Area:
    street = Area.objects.filter(code=code).first() if code else None
    if street is None or street.kind != AreaKind.STREET:
        raise ValidationFailed(fields={field: [_("未知镇街编码：%(code)s。") % {"code": code or ''}]})
    return street


def _check_dates(effective_from, effective_to):
    errors = {}
    if not isinstance(effective_from, date):
        errors["effective_from"] = [_("请填写生效日期。")]
    if effective_to is not None and not isinstance(effective_to, date):
        errors["effective_to"] = [_("日期格式不正确。")]
    if not errors and effective_to is not None and effective_to < effective_from:
        errors["effective_to"] = [_("截止日期不能早于生效日期。")]
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def delegate(actor, *, matter_code: str, street_code: str, effective_from: date, effective_to: date | None = None,
             source: str = DelegationSource.MANUAL) -> Delegation:
    """Delegate a matter to a street in the draft (takes effect when the draft is published)."""
    require_catalog_editor(actor)
    street = _street(street_code)
    _check_dates(effective_from, effective_to)
    draft = open_draft(actor)
    matter = Matter.objects.filter(version=draft, code=matter_code).first()
    if matter is None:
        raise ValidationFailed(fields={"matter": [_("草稿中没有事项 %(matter_code)s。") % {"matter_code": matter_code}]})
    if matter.status != MatterStatus.ACTIVE:
        raise ValidationFailed(fields={"matter": [_("事项 %(matter_code)s 已废止，不能赋权。") % {"matter_code": matter_code}]})
    if Delegation.objects.filter(matter=matter, street=street, effective_from=effective_from).exists():
        raise ValidationFailed(fields={"effective_from": [_("该镇街同一生效日期已有此事项的赋权。")]})
    d = Delegation.objects.create(
        matter=matter, street=street, tier=street.tier, effective_from=effective_from, effective_to=effective_to,
        source=source, created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit.record(actor, "delegation.created", d,
                 changes={k: [None, v] for k, v in audit.snapshot(d, DELEGATION_FIELDS).items()})
    return d


@transaction.atomic
def update_delegation(actor, delegation: Delegation, *, effective_to: date | None) -> Delegation:
    """Set or clear the end date of a draft delegation."""
    require_catalog_editor(actor)
    d = Delegation.objects.select_for_update().select_related("matter__version").get(pk=delegation.pk)
    if not d.matter.version.is_draft:
        raise Conflict(_("只能修改草稿版本中的赋权；撤销请使用“撤销赋权”。"))
    _check_dates(d.effective_from, effective_to)
    before = audit.snapshot(d, DELEGATION_FIELDS)
    d.effective_to = effective_to
    d.save(update_fields=["effective_to", "updated_at"])
    delta = audit.diff(before, audit.snapshot(d, DELEGATION_FIELDS))
    if delta:
        audit.record(actor, "delegation.updated", d, changes=delta)
    return d


def _revoke_row(actor, d: Delegation, reason: str, now):
    before = audit.snapshot(d, DELEGATION_FIELDS)
    d.revoked_at = now
    d.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
    d.revoke_reason = reason
    d.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    audit.record(actor, "delegation.revoked", d, changes=audit.diff(before, audit.snapshot(d, DELEGATION_FIELDS)))


@transaction.atomic
def revoke_delegation(actor, delegation: Delegation, *, reason: str) -> Delegation:
    """Revoke at once, with a reason; the row stays. On the published version it also revokes the
    draft's copy, so the next edition does not bring the delegation back."""
    require_catalog_editor(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("请填写撤销原因。")]})
    if len(reason) > 500:
        raise ValidationFailed(fields={"reason": [_("不能超过500个字符。")]})
    d = Delegation.objects.select_for_update().select_related("matter__version", "street").get(pk=delegation.pk)
    version = d.matter.version
    if version.status == VersionStatus.ARCHIVED:
        raise Conflict(_("已归档版本中的赋权不可撤销。"))
    if d.revoked_at is not None:
        raise Conflict(_("该赋权已撤销。"))
    now = timezone.now()
    _revoke_row(actor, d, reason, now)
    if version.status == VersionStatus.PUBLISHED:
        CatalogVersion.objects.filter(pk=version.pk).update(revision=version.revision + 1)
        twin = Delegation.objects.select_for_update().filter(
            matter__version__status=VersionStatus.DRAFT, matter__code=d.matter.code, street=d.street,
            effective_from=d.effective_from, revoked_at__isnull=True,
        ).first()
        if twin is not None:
            _revoke_row(actor, twin, reason, now)
        routing.note_change()
    return d


def _clean_codes(codes) -> list[str]:
    out = []
    for c in codes or []:
        c = str(c).strip()
        if c and c not in out:
            out.append(c)
    return out


@transaction.atomic
def set_tier_template(actor, *, tier: str, matter_codes: list[str], name: str | None = None) -> TierTemplate:
    require_catalog_editor(actor)
    if tier not in StreetTier.values:
        raise ValidationFailed(fields={"tier": [_("未知镇街类型：%(tier)s。") % {"tier": tier}]})
    codes = _clean_codes(matter_codes)
    known = known_matter_codes()
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationFailed(fields={"matter_codes": [_("未知事项编码：%(unknown)s。")
            % {"unknown": '、'.join(unknown[:20])}]})
    template = TierTemplate.objects.select_for_update().filter(tier=tier).first()
    before = {"name": template.name, "matter_codes": template.matter_codes} if template else {}
    if template is None:
        template = TierTemplate(tier=tier)
    template.name = name or template.name or _("%(label)s赋权模板") % {"label": StreetTier(tier).label}
    template.matter_codes = codes
    template.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    template.save()
    after = {"name": template.name, "matter_codes": template.matter_codes}
    delta = audit.diff(before, after)
    if delta:
        if "matter_codes" in delta:  # the lists are long: record what was added and removed
            old, new = set(before.get("matter_codes") or []), set(codes)
            delta["matter_codes"] = [sorted(old - new), sorted(new - old)]
        audit.record(actor, "tier_template.saved", template, changes=delta)
    return template


@transaction.atomic
def apply_tier_template(actor, *, tier: str, effective_from: date, effective_to: date | None = None) -> dict:
    """Delegate the tier's list to every street of that tier, in the draft. Idempotent: a street that
    already holds a matter on `effective_from` (by any delegation not revoked) is left as it is."""
    require_catalog_editor(actor)
    _check_dates(effective_from, effective_to)
    template = TierTemplate.objects.filter(tier=tier).first()
    if template is None:
        raise NotFound(_("没有%(label)s的赋权模板。")
            % {"label": StreetTier(tier).label if tier in StreetTier.values else tier})
    draft = open_draft(actor)
    matters = {m.code: m for m in Matter.objects.filter(version=draft, code__in=template.matter_codes)}
    missing = [c for c in template.matter_codes if c not in matters]
    streets = list(Area.objects.filter(kind=AreaKind.STREET, tier=tier).order_by("code"))
    existing = {}
    for d in Delegation.objects.filter(matter__version=draft, street__in=streets, matter__code__in=list(matters)):
        existing.setdefault((d.matter_id, d.street_id), []).append(d)
    creator = actor if getattr(actor, "is_authenticated", False) else None
    to_create, unchanged, blocked = [], 0, 0
    for street in streets:
        for code in template.matter_codes:
            matter = matters.get(code)
            if matter is None or matter.status != MatterStatus.ACTIVE:
                continue
            rows = existing.get((matter.pk, street.pk), [])
            if any(r.revoked_at is None and r.effective_from <= effective_from
                   and (r.effective_to is None or r.effective_to >= effective_from) for r in rows):
                unchanged += 1
                continue
            if any(r.effective_from == effective_from for r in rows):
                blocked += 1  # revoked on that very start date: a new start date is needed
                continue
            to_create.append(Delegation(
                matter=matter, street=street, tier=street.tier, effective_from=effective_from,
                effective_to=effective_to, source=DelegationSource.TEMPLATE, created_by=creator,
            ))
    Delegation.objects.bulk_create(to_create, batch_size=1000)
    result = {"tier": tier, "version": draft.number, "streets": len(streets), "created": len(to_create),
              "unchanged": unchanged, "blocked": blocked, "missing_matters": missing}
    if to_create:
        audit.record(actor, "tier_template.applied", template, changes={
            "created": [None, len(to_create)], "streets": [None, [s.code for s in streets]],
            "effective_from": [None, effective_from], "version": [None, draft.number]})
    return result


def known_matter_codes() -> set[str]:
    """Codes of the published version and of the open draft (new codes may be referenced before publishing)."""
    return set(Matter.objects.filter(version__status__in=[VersionStatus.PUBLISHED, VersionStatus.DRAFT])
               .values_list("code", flat=True))
