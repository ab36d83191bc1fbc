"""Inspect-once checklists (综合查一次): checklists per subject category and their items."""
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import ValidationFailed
from enforcement.choices import VersionStatus
from enforcement.models import Checklist, ChecklistArea, ChecklistItem, Matter
from enforcement.services.access import require_catalog_editor
from enforcement.services.catalog import CODE_FORMAT_MESSAGE, CODE_RE
from grids.models import SubjectCategory

CHECKLIST_FIELDS = ("code", "name", "category", "description", "active")
CHECKLIST_ITEM_FIELDS = ("code", "area", "matter_code", "department", "text", "weight", "order")


def matter_departments(codes) -> dict[str, int]:
    """matter code → department id, from the published version (the draft for codes not yet published)."""
    out = {}
    for status in (VersionStatus.DRAFT, VersionStatus.PUBLISHED):  # published wins: written last
        out.update(dict(Matter.objects.filter(version__status=status, code__in=list(codes))
                        .values_list("code", "department_id")))
    return out


@transaction.atomic
def save_checklist(actor, *, code: str, name: str, category: SubjectCategory, description: str = "",
                   active: bool = True) -> tuple[Checklist, bool]:
    require_catalog_editor(actor)
    errors = {}
    if not code or not CODE_RE.match(code):
        errors["code"] = [CODE_FORMAT_MESSAGE]
    if not (name or "").strip():
        errors["name"] = [_("此字段为必填项。")]
    if category is None:
        errors["category"] = [_("此字段为必填项。")]
    if errors:
        raise ValidationFailed(fields=errors)
    current = Checklist.objects.select_for_update().filter(code=code).first()
    if current is None:
        cl = Checklist.objects.create(code=code, name=name.strip(), category=category, description=description or "",
                                      active=active)
        audit.record(actor, "checklist.created", cl,
                     changes={k: [None, v] for k, v in audit.snapshot(cl, CHECKLIST_FIELDS).items()})
        return cl, True
    before = audit.snapshot(current, CHECKLIST_FIELDS)
    current.name, current.category, current.description, current.active = name.strip(), category, description or "", active
    delta = audit.diff(before, audit.snapshot(current, CHECKLIST_FIELDS))
    if delta:
        current.save()
        audit.record(actor, "checklist.updated", current, changes=delta)
    return current, False


@transaction.atomic
def save_checklist_item(actor, checklist: Checklist, *, code: str, area_name: str, matter_code: str, text: str,
                        weight: int = 1, order: int = 0) -> tuple[ChecklistItem, str]:
    """Create or update an item by (checklist, code). Returns (item, "created" | "updated" | "unchanged")."""
    require_catalog_editor(actor)
    errors = {}
    if not code or not CODE_RE.match(code):
        errors["item_code"] = [CODE_FORMAT_MESSAGE]
    if not (text or "").strip():
        errors["text"] = [_("此字段为必填项。")]
    dept_id = matter_departments([matter_code]).get(matter_code)
    if dept_id is None:
        errors["matter_code"] = [_("事项清单中没有事项 %(matter_code)s。") % {"matter_code": matter_code}]
    if errors:
        raise ValidationFailed(fields=errors)
    area = None
    if (area_name or "").strip():
        area, _created = ChecklistArea.objects.get_or_create(
            checklist=checklist, name=area_name.strip(),
            defaults={"order": (checklist.areas.aggregate(n=Max("order"))["n"] or 0) + 1})
    current = ChecklistItem.objects.select_for_update().filter(checklist=checklist, code=code).first()
    values = {"area": area, "matter_code": matter_code, "department_id": dept_id, "text": text.strip(),
              "weight": weight, "order": order}
    if current is None:
        item = ChecklistItem.objects.create(checklist=checklist, code=code, **values)
        audit.record(actor, "checklist_item.created", item,
                     changes={k: [None, v] for k, v in audit.snapshot(item, CHECKLIST_ITEM_FIELDS).items()})
        return item, "created"
    before = audit.snapshot(current, CHECKLIST_ITEM_FIELDS)
    for k, v in values.items():
        setattr(current, k, v)
    delta = audit.diff(before, audit.snapshot(current, CHECKLIST_ITEM_FIELDS))
    if not delta:
        return current, "unchanged"
    current.save()
    audit.record(actor, "checklist_item.updated", current, changes=delta)
    return current, "updated"
