"""Credit policies: which one applies to a subject (its sub-category's, else its major category's, else the
district default), and their edits. A policy is versioned: an edit writes a new version and retires the old
one; the subjects it applies to are rescored by a worker after the commit (through the outbox).
"""
import math

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, outbox
from core.exceptions import Conflict, Forbidden, ValidationFailed
from core.roles import BUREAU_STAFF, has_role
from credit import scoring
from credit.choices import Color, FactKind, HistoryCause
from credit.models import CreditPolicy, default_base_points, default_sensor_rules, default_weights
from grids import selectors as grid_selectors
from grids.models import Subject, SubjectCategory


# --- Policies: which one applies -----------------------------------------------------------------

def current_policies() -> dict:
    """{category id or None (district default): PolicyParams} of the current versions."""
    out = {p.category_id: scoring.PolicyParams.from_policy(p) for p in CreditPolicy.objects.filter(is_current=True)}
    if None not in out:
        out[None] = _ensure_default_policy()
    return out


def _ensure_default_policy() -> scoring.PolicyParams:
    # The migration seeds it; a database flushed by a test may not have it any more.
    policy = CreditPolicy.objects.filter(category__isnull=True, is_current=True).first()
    if policy is None:
        policy, _created = CreditPolicy.objects.get_or_create(
            category=None, version=1,
            defaults={"name": "全区默认", "base_points": default_base_points(), "weights": default_weights(),
                      "sensor_rules": default_sensor_rules(), "note": "初始规则"},
        )
    return scoring.PolicyParams.from_policy(policy)


def policy_resolver(policies: dict | None = None):
    """A function category_id → PolicyParams: the sub-category's policy, else its major category's,
    else the district default."""
    policies = policies if policies is not None else current_policies()
    parents = dict(SubjectCategory.objects.values_list("id", "parent_id"))
    cache = {}

    def resolve(category_id):
        if category_id not in cache:
            cache[category_id] = (policies.get(category_id) or policies.get(parents.get(category_id))
                                  or policies[None])
        return cache[category_id]

    return resolve


def policy_for_subject(subject: Subject) -> scoring.PolicyParams:
    category = subject.category
    rows = CreditPolicy.objects.filter(is_current=True).filter(
        Q(category_id=category.pk) | Q(category_id=category.parent_id) | Q(category__isnull=True)
    )
    by_cat = {p.category_id: p for p in rows}
    for key in (category.pk, category.parent_id):
        if key is not None and key in by_cat:
            return scoring.PolicyParams.from_policy(by_cat[key])
    if None in by_cat:
        return scoring.PolicyParams.from_policy(by_cat[None])
    return _ensure_default_policy()


# --- Policies: edits --------------------------------------------------------------------------------

POLICY_FIELDS = ("name", "window_days", "half_life_days", "yellow_from", "red_from", "base_points", "weights",
                 "lenient_multiplier", "complaint_confirmed_weight", "complaint_unconfirmed_weight", "sensor_rules",
                 "note")


def _require_district_bureau(actor):
    if not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以修改信用评分规则。"))
    if grid_selectors.user_area_paths(actor) is not None:
        raise Forbidden(_("只有全区范围的工作人员可以修改信用评分规则。"))


def _number(errors, name, value, *, minimum=0.0, maximum=None, integer=False, allow_none=False):
    if value is None and allow_none:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer and int(value) != value:
        ok = False
    if not ok or value < minimum or (maximum is not None and value > maximum):
        bound = f" ≤ {maximum}" if maximum is not None else ""
        errors[name] = [_("必须是 ≥ %(min)s%(bound)s 的数。") % {"min": minimum, "bound": bound}]
        return value
    return int(value) if integer else float(value)


def _clean_kind_map(errors, name, value):
    if not isinstance(value, dict):
        errors[name] = [_("必须是 {类型: 数值} 的对象。")]
        return value
    out = {}
    for k, v in value.items():
        if k not in FactKind.values:
            errors[name] = [_("未知的记录类型：%(kind)s。") % {"kind": k}]
            return value
        sub = {}
        out[k] = _number(sub, name, v, maximum=1000)
        if sub:
            errors[name] = [_("%(kind)s 的数值无效。") % {"kind": k}]
            return value
    return out


def _clean_sensor_rules(errors, value):
    if not isinstance(value, list):
        errors["sensor_rules"] = [_("必须是规则列表。")]
        return value
    out, problems = [], []
    for i, rule in enumerate(value):
        if not isinstance(rule, dict):
            problems.append(_("第 %(i)d 条不是对象。") % {"i": i + 1})
            continue
        sub = {}
        metric = rule.get("metric")
        if not isinstance(metric, str) or not metric.strip() or len(metric) > 32 or "\x00" in metric:
            sub["metric"] = True
        limit = _number(sub, "limit", rule.get("limit"), minimum=0)
        days = _number(sub, "days", rule.get("days", 1), minimum=1, maximum=365, integer=True)
        within = _number(sub, "within_days", rule.get("within_days", 30), minimum=1, maximum=3650, integer=True)
        color = rule.get("color")
        if color not in (Color.YELLOW, Color.RED):
            sub["color"] = True
        if sub:
            problems.append(_("第 %(i)d 条的 %(fields)s 无效（metric 文本，limit ≥ 0，days ≥ 1，color 为 yellow/red）。")
                            % {"i": i + 1, "fields": ", ".join(sub)})
            continue
        out.append({"metric": metric.strip(), "limit": limit, "days": days, "color": color, "within_days": within})
    if problems:
        errors["sensor_rules"] = problems
    return out


def clean_policy(data: dict, base: CreditPolicy | None = None) -> dict:
    """Check policy fields (a full set over `base`'s values); the cleaned dict or ValidationFailed."""
    values = {f: getattr(base, f) for f in POLICY_FIELDS} if base else {
        "name": "", "window_days": 365, "half_life_days": 180.0, "yellow_from": 14.0, "red_from": 28.0,
        "base_points": default_base_points(), "weights": default_weights(), "lenient_multiplier": 0.3,
        "complaint_confirmed_weight": 1.0, "complaint_unconfirmed_weight": 0.3,
        "sensor_rules": default_sensor_rules(), "note": "",
    }
    unknown = set(data) - set(POLICY_FIELDS)
    errors = {k: [_("未知字段。")] for k in unknown}
    values.update({k: v for k, v in data.items() if k in POLICY_FIELDS})
    for name, max_len in (("name", 100), ("note", 255)):
        if not isinstance(values[name], str) or len(values[name]) > max_len:
            errors[name] = [_("最多 %(n)d 个字符的文本。") % {"n": max_len}]
    values["window_days"] = _number(errors, "window_days", values["window_days"], minimum=1, maximum=3650, integer=True)
    values["half_life_days"] = _number(errors, "half_life_days", values["half_life_days"], minimum=1, maximum=3650,
                                       allow_none=True)
    for name in ("yellow_from", "red_from"):
        values[name] = _number(errors, name, values[name], maximum=100000)
    for name in ("lenient_multiplier", "complaint_confirmed_weight", "complaint_unconfirmed_weight"):
        values[name] = _number(errors, name, values[name], maximum=100)
    values["base_points"] = _clean_kind_map(errors, "base_points", values["base_points"])
    values["weights"] = _clean_kind_map(errors, "weights", values["weights"])
    values["sensor_rules"] = _clean_sensor_rules(errors, values["sensor_rules"])
    if "yellow_from" not in errors and "red_from" not in errors and not values["red_from"] > values["yellow_from"]:
        errors["red_from"] = [_("红色起始分必须高于黄色起始分。")]
    if errors:
        raise ValidationFailed(fields=errors)
    return values


RESCORE_ALL_TOPIC = "credit.rescore_all"


def _rescore_policy_subjects_on_commit(category_id):
    """The subjects a policy applies to, rescored by a worker after the commit (through the outbox)."""
    if category_id is None:
        ids = None
    else:
        ids = [category_id, *SubjectCategory.objects.filter(parent_id=category_id).values_list("id", flat=True)]
    outbox.publish(RESCORE_ALL_TOPIC, {"category_ids": ids, "cause": HistoryCause.POLICY})


def create_policy(actor, *, category=None, **data) -> CreditPolicy:
    """A policy for a category that has none yet (version 1); editing goes through update_policy."""
    _require_district_bureau(actor)
    values = clean_policy(data)
    with transaction.atomic():
        if CreditPolicy.objects.filter(is_current=True, category=category).exists():
            raise Conflict(_("该类别已有现行规则，请修改它（将生成新版本）。"))
        last = CreditPolicy.objects.filter(category=category).order_by("-version").values_list("version", flat=True).first()
        policy = CreditPolicy.objects.create(category=category, version=(last or 0) + 1, is_current=True,
                                             created_by=actor, **values)
        audit.record(actor, "credit.policy_created", policy,
                     changes={k: [None, v] for k, v in audit.snapshot(policy, ("category", "version", *POLICY_FIELDS)).items()})
        _rescore_policy_subjects_on_commit(category.pk if category else None)
    return policy


_UNCHANGED = object()


def update_policy(actor, policy: CreditPolicy, *, category=_UNCHANGED, **data) -> CreditPolicy:
    """An edit is a new version; the old one is retired and kept. A policy stays with its category
    (`category`, when given, must be the one it has: another category gets a policy of its own)."""
    _require_district_bureau(actor)
    if category is not _UNCHANGED and getattr(category, "pk", category) != policy.category_id:
        raise ValidationFailed(fields={"category": [_("不能修改规则所属类别。")]})
    with transaction.atomic():
        old = CreditPolicy.objects.select_for_update().get(pk=policy.pk)
        if not old.is_current:
            raise Conflict(_("这是旧版本，请修改现行版本。"))
        values = clean_policy(data, base=old)
        now = timezone.now()
        old.is_current, old.retired_at = False, now
        old.save(update_fields=["is_current", "retired_at"])
        new = CreditPolicy.objects.create(category_id=old.category_id, version=old.version + 1, is_current=True,
                                          created_by=actor, **values)
        before = audit.snapshot(old, POLICY_FIELDS)
        audit.record(actor, "credit.policy_updated", new,
                     changes={"version": [old.version, new.version], **audit.diff(before, audit.snapshot(new, POLICY_FIELDS))})
        _rescore_policy_subjects_on_commit(old.category_id)
    return new


def retire_policy(actor, policy: CreditPolicy) -> CreditPolicy:
    """A category's policy stops applying (its subjects fall back); the district default cannot."""
    _require_district_bureau(actor)
    with transaction.atomic():
        policy = CreditPolicy.objects.select_for_update().get(pk=policy.pk)
        if policy.category_id is None:
            raise Conflict(_("全区默认规则不能停用，请修改它。"))
        if not policy.is_current:
            raise Conflict(_("该版本已停用。"))
        policy.is_current, policy.retired_at = False, timezone.now()
        policy.save(update_fields=["is_current", "retired_at"])
        audit.record(actor, "credit.policy_retired", policy, changes={"is_current": [True, False]})
        _rescore_policy_subjects_on_commit(policy.category_id)
    return policy
