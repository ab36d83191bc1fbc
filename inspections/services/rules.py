"""The plan rules bureau staff set in the product (/inspections/rules/, /api/v1/inspection-rules/): the
per-officer daily cap, the default comply-by days by the item's weight (its severity band), and a
checklist item's own comply-by days. Each change is audited with from→to; only district-wide bureau
staff may change them. Unset, the cap is the INSPECTIONS_DAILY_CAP setting and the days DEFAULT_COMPLY_BY."""
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import Forbidden, ValidationFailed
from core.roles import BUREAU_STAFF, has_role
from core.unset import UNCHANGED
from enforcement.models import ChecklistItem
from grids import selectors as grid_selectors
from inspections.models import ComplyByDefault, ComplyByItem, PlanRules

DEFAULT_COMPLY_BY = ((5, 3), (3, 7), (0, 15))  # (min weight, days) when bureau staff set none
# The overdue event's severity by the item's weight (command center severities); the comply-by bands
# are shown with it.
SEVERITY_BY_WEIGHT = ((5, "red"), (3, "orange"), (2, "yellow"), (0, "blue"))
MAX_DAILY_CAP, MAX_DAYS, MAX_WEIGHT, MAX_BANDS, MAX_ITEMS = 50, 365, 100, 20, 500


def setting_daily_cap() -> int:
    return int(getattr(settings, "INSPECTIONS_DAILY_CAP", 8))


def daily_cap() -> int:
    """Visits per officer per day: bureau staff's value, else the setting."""
    stored = PlanRules.objects.filter(pk=1).values_list("daily_cap", flat=True).first()
    return int(stored) if stored else setting_daily_cap()


def severity_for(weight: int) -> str:
    return next(s for w, s in SEVERITY_BY_WEIGHT if weight >= w)


def comply_by_days(weight: int, item_code: str | None = None) -> int:
    """The item's own days if bureau staff set them, else the band of its weight, else the built-in."""
    if item_code:
        own = ComplyByItem.objects.filter(item_code=item_code).values_list("days", flat=True).first()
        if own:
            return own
    rows = list(ComplyByDefault.objects.order_by("-min_weight").values_list("min_weight", "days"))
    for min_weight, days in rows or DEFAULT_COMPLY_BY:
        if weight >= min_weight:
            return days
    return DEFAULT_COMPLY_BY[-1][1]


def require_rules_editor(actor):
    """District-wide bureau staff only (the rules hold for every street)."""
    if actor is None:
        return
    if not has_role(actor, BUREAU_STAFF) or grid_selectors.user_area_paths(actor) is not None:
        raise Forbidden(_("只有区综合执法局（全区账号）工作人员可以设置检查计划规则。"))


def _number(value, field, low, high, errors, key=None):
    key = key or field
    if isinstance(value, bool) or value in (None, ""):
        errors.setdefault(key, []).append(_("请填写 %(low)d–%(high)d 的整数。") % {"low": low, "high": high})
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        number = None
    if number is None or not low <= number <= high:
        errors.setdefault(key, []).append(_("请填写 %(low)d–%(high)d 的整数。") % {"low": low, "high": high})
        return None
    return number


def _rows(value, field, key_name, clean_key, errors, max_rows) -> dict | None:
    """A list of {key_name, "days"} → {key: days}; errors under `field`."""
    if not isinstance(value, (list, tuple)):
        errors[field] = [_("必须是列表。")]
        return None
    if len(value) > max_rows:
        errors[field] = [_("最多 %(n)d 行。") % {"n": max_rows}]
        return None
    out = {}
    for n, row in enumerate(value):
        if not isinstance(row, dict):
            errors.setdefault(field, []).append(_("第 %(n)d 行格式无效。") % {"n": n + 1})
            continue
        key = clean_key(row.get(key_name), n)
        days = _number(row.get("days"), "days", 1, MAX_DAYS, errors, key=field)
        if key is None or days is None:
            continue
        if key in out:
            errors.setdefault(field, []).append(_("重复的行：%(key)s。") % {"key": key})
        out[key] = days
    return out


@transaction.atomic


def save_rules(actor, *, daily_cap=UNCHANGED, comply_by_defaults=UNCHANGED, comply_by_items=UNCHANGED) -> PlanRules:
    """Change the given rules (the lists replace the whole set: a row left out is removed). One
    transaction; each change is audited with from→to."""
    require_rules_editor(actor)
    errors: dict = {}
    cap = UNCHANGED
    if daily_cap is not UNCHANGED:
        cap = None if daily_cap in (None, "") else _number(daily_cap, "daily_cap", 1, MAX_DAILY_CAP, errors)

    def weight_key(value, n):
        return _number(value, "min_weight", 0, MAX_WEIGHT, errors, key="comply_by_defaults")

    def item_key(value, n):
        code = str(value or "").strip()[:64]
        if not code:
            errors.setdefault("comply_by_items", []).append(_("第 %(n)d 行缺少条目编码。") % {"n": n + 1})
            return None
        return code

    bands = items = None
    if comply_by_defaults is not UNCHANGED:
        bands = _rows(comply_by_defaults, "comply_by_defaults", "min_weight", weight_key, errors, MAX_BANDS)
    if comply_by_items is not UNCHANGED:
        items = _rows(comply_by_items, "comply_by_items", "item_code", item_key, errors, MAX_ITEMS)
        if items:
            known = set(ChecklistItem.objects.filter(code__in=list(items)).values_list("code", flat=True))
            unknown = sorted(set(items) - known)
            if unknown:
                errors.setdefault("comply_by_items", []).append(
                    _("检查清单中没有这些条目：%(codes)s。") % {"codes": ", ".join(unknown)})
    if errors:
        raise ValidationFailed(fields=errors)
    rules, _created = PlanRules.objects.select_for_update().get_or_create(pk=1)
    if cap is not UNCHANGED and cap != rules.daily_cap:
        audit.record(actor, "inspections.rules_changed", rules, changes={"daily_cap": [rules.daily_cap, cap]})
        rules.daily_cap = cap
        rules.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        rules.save()
    if bands is not None:
        _replace(actor, ComplyByDefault, "min_weight", bands)
    if items is not None:
        _replace(actor, ComplyByItem, "item_code", items)
    return rules


def _replace(actor, model, key_field, wanted: dict):
    """Make the model's rows {key: days} equal `wanted`, one audit record per row changed."""
    current = {getattr(r, key_field): r for r in model.objects.select_for_update()}
    for key, row in current.items():
        if key not in wanted:
            audit.record(actor, "inspections.comply_by_changed", row, changes={key_field: [key, None],
                                                                                "days": [row.days, None]})
            row.delete()
    for key, days in wanted.items():
        row = current.get(key)
        if row is None:
            row = model.objects.create(**{key_field: key, "days": days})
            audit.record(actor, "inspections.comply_by_changed", row, changes={key_field: [None, key],
                                                                                "days": [None, days]})
        elif row.days != days:
            audit.record(actor, "inspections.comply_by_changed", row, changes={key_field: [key, key],
                                                                                "days": [row.days, days]})
            row.days = days
            row.save(update_fields=["days"])


def rules_for(actor) -> dict:
    """The rules as they stand (for the page and GET /api/v1/inspection-rules/): bureau staff only."""
    require_rules_editor(actor)
    stored = PlanRules.objects.filter(pk=1).values_list("daily_cap", flat=True).first()
    bands = list(ComplyByDefault.objects.order_by("-min_weight").values_list("min_weight", "days"))
    own = list(ComplyByItem.objects.values_list("item_code", "days"))
    texts = dict(ChecklistItem.objects.filter(code__in=[c for c, _d in own]).order_by("code", "-id")
                 .values_list("code", "text"))
    return {
        "daily_cap": stored or setting_daily_cap(), "daily_cap_set": stored, "daily_cap_setting": setting_daily_cap(),
        "comply_by_defaults": [{"min_weight": w, "days": d, "severity": severity_for(w)} for w, d in bands],
        "comply_by_builtin": [{"min_weight": w, "days": d, "severity": severity_for(w)} for w, d in DEFAULT_COMPLY_BY],
        "comply_by_items": [{"item_code": c, "days": d, "item_text": texts.get(c, "")}
                            for c, d in own],
    }
