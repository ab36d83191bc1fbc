"""Every write of credit: posting and withdrawing facts (THE entry points for other apps), rescoring,
overrides, policies and sensor readings. One transaction per action, audited; rescoring on commit.

Other apps call:
    post_fact(subject, kind, source_app=..., source_model=..., source_pk=..., points=None, occurred_at=None,
              confirmed=False, leniency="", source_text="", actor=None)   → (fact, created)
    withdraw_fact(fact=None, source_app=..., source_model=..., source_pk=..., kind=None, reason=..., actor=None)
Both are idempotent by the source reference (app label + model + pk [+ kind]).
A rectification's life is told by the poster: post rectification_open when the deadline is set,
rectification_overdue when it passes, withdraw both when it is done and post rectification_late if late.
"""
import json
import logging
import math
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core import audit, outbox
from core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from core.roles import API_CLIENT, BUREAU_STAFF, DISPATCHER, has_role
from credit import scoring
from credit.choices import COLOR_RANK, Color, FactKind, HistoryCause, Leniency
from credit.models import (
    CreditFact, CreditHistory, CreditOverride, CreditPolicy, CreditScore, SensorReading, default_base_points,
    default_sensor_rules, default_weights,
)
from grids import selectors as grid_selectors
from grids.models import Subject, SubjectCategory

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(minutes=10)  # a poster's clock may run a little ahead of ours
FULL_RESCORE_CHUNK = 5000
_to_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode  # compact: 100,000 rows a night


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


def _policy_for_subject(subject: Subject) -> scoring.PolicyParams:
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


# --- Facts: the ledger -----------------------------------------------------------------------------

def _clean_when(value, field="occurred_at"):
    if value is None:
        return timezone.now()
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValidationFailed(fields={field: [_("时间格式无效。")]})
        value = parsed
    if not isinstance(value, datetime):
        raise ValidationFailed(fields={field: [_("时间格式无效。")]})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + CLOCK_SKEW:
        raise ValidationFailed(fields={field: [_("时间不能晚于现在。")]})
    return value


def _clean_fact(kind, points, leniency, source_app, source_model, source_pk, source_text, metric, value):
    errors = {}
    if kind not in FactKind.values:
        errors["kind"] = [_("未知的记录类型：%(kind)s。") % {"kind": kind}]
    if points is not None:
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points) or points < 0:
            errors["points"] = [_("分值必须是非负数。")]
        elif points > 1000:
            errors["points"] = [_("分值不能超过 1000。")]
    if leniency not in Leniency.values:
        errors["leniency"] = [_("未知的从轻情形：%(value)s。") % {"value": leniency}]
    elif leniency and kind != FactKind.VIOLATION:
        errors["leniency"] = [_("只有违法处罚记录可以标注从轻情形。")]
    for name, val, max_len in (("source_app", source_app, 50), ("source_model", source_model, 50),
                               ("source_pk", source_pk, 64)):
        if not val or not str(val).strip():
            errors[name] = [_("此字段为必填项。")]
        elif len(str(val)) > max_len:
            errors[name] = [_("最多 %(n)d 个字符。") % {"n": max_len}]
    if kind == FactKind.SENSOR_EXCEEDANCE and (not metric or value is None):
        errors["metric"] = [_("监测超标记录需要指标和数值。")]
    if errors:
        raise ValidationFailed(fields=errors)
    return (source_text or "")[:255]


def post_fact(subject, kind, *, source_app, source_model, source_pk, points=None, occurred_at=None,
              confirmed=False, leniency="", source_text="", metric="", value=None, actor=None, rescore=True):
    """Record a fact about a subject; (fact, created). The same source reference and kind again returns
    the first fact unchanged (created False). The subject is rescored when the transaction commits
    (rescore=False: a bulk loader that runs rescore_all itself afterwards)."""
    source_pk = str(source_pk)
    source_text = _clean_fact(kind, points, leniency or "", source_app, source_model, source_pk, source_text,
                              metric, value)
    occurred_at = _clean_when(occurred_at)
    subject_id = subject.pk if isinstance(subject, Subject) else subject
    key = {"source_app": source_app, "source_model": source_model, "source_pk": source_pk, "kind": kind}
    with transaction.atomic():
        existing = CreditFact.objects.filter(**key).first()
        if existing is None:
            if not Subject.objects.filter(pk=subject_id).exists():
                raise NotFound(_("管理对象不存在。"))
            try:
                with transaction.atomic():  # a savepoint: a concurrent twin may win the unique constraint
                    fact = CreditFact.objects.create(
                        subject_id=subject_id, points=None if points is None else float(points),
                        confirmed=bool(confirmed), leniency=leniency or "", occurred_at=occurred_at,
                        source_text=source_text, metric=metric or "", value=value,
                        posted_by=actor if getattr(actor, "is_authenticated", False) else None, **key,
                    )
            except IntegrityError:
                existing = CreditFact.objects.get(**key)
        if existing is not None:
            if existing.subject_id != subject_id:
                raise Conflict(_("该来源记录已登记在另一个管理对象名下。"))
            return existing, False
        audit.record(actor, "credit.fact_posted", fact, changes={
            "kind": [None, kind], "subject": [None, subject_id], "points": [None, fact.points],
            "occurred_at": [None, occurred_at], "source": [None, fact.source_ref],
        })
        if rescore:
            _rescore_on_commit(subject_id, HistoryCause.FACT_POSTED, fact_id=fact.pk, actor=actor)
    return fact, True


def post_facts(items, *, actor=None, rescore=True) -> int:
    """Many facts in one transaction (a platform's batch, the demo): each item is post_fact's keyword
    arguments plus `subject` and `kind`. All or nothing: any bad item refuses the batch, its errors keyed
    "<index>.<field>". Items whose source reference is already on the ledger are skipped (idempotent).
    One audit record lists the new facts' ids; the subjects are rescored on commit. Returns how many
    facts were new."""
    errors, rows = {}, []
    for i, item in enumerate(items):
        item = dict(item)
        try:
            subject, kind = item.pop("subject"), item.pop("kind")
            source_pk = str(item.pop("source_pk"))
            source_text = _clean_fact(kind, item.get("points"), item.get("leniency") or "", item.get("source_app"),
                                      item.get("source_model"), source_pk, item.get("source_text"),
                                      item.get("metric"), item.get("value"))
            occurred_at = _clean_when(item.get("occurred_at"))
        except ValidationFailed as exc:
            errors.update({f"{i}.{k}": v for k, v in exc.fields.items()})
            continue
        except KeyError as exc:
            errors[f"{i}.{exc.args[0]}"] = [_("此字段为必填项。")]
            continue
        rows.append(CreditFact(
            subject_id=subject.pk if isinstance(subject, Subject) else subject, kind=kind,
            points=None if item.get("points") is None else float(item["points"]), confirmed=bool(item.get("confirmed")),
            leniency=item.get("leniency") or "", metric=item.get("metric") or "", value=item.get("value"),
            occurred_at=occurred_at, source_app=item["source_app"], source_model=item["source_model"],
            source_pk=source_pk, source_text=source_text,
            posted_by=actor if getattr(actor, "is_authenticated", False) else None,
        ))
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        subject_ids = {r.subject_id for r in rows}
        known = set(Subject.objects.filter(pk__in=subject_ids).values_list("pk", flat=True))
        if known != subject_ids:
            raise ValidationFailed(fields={"subject": [_("管理对象不存在：%(ids)s。") % {
                "ids": ", ".join(map(str, sorted(subject_ids - known)[:20]))}]})
        seen, new = set(), []
        by_model = {}
        for r in rows:
            by_model.setdefault((r.source_app, r.source_model), set()).add(r.source_pk)
        for (app, model), pks in by_model.items():
            pk_list = list(pks)
            for n in range(0, len(pk_list), 500):  # SQLite's limit on query parameters
                seen.update(CreditFact.objects.filter(source_app=app, source_model=model, source_pk__in=pk_list[n:n + 500])
                            .values_list("source_app", "source_model", "source_pk", "kind"))
        for r in rows:
            key = (r.source_app, r.source_model, r.source_pk, r.kind)
            if key not in seen:
                seen.add(key)
                new.append(r)
        created = CreditFact.objects.bulk_create(new, batch_size=1000)
        if created:
            ids = [f.pk for f in created if f.pk is not None]
            audit.record(actor, "credit.facts_posted", object_type="credit.creditfact", object_id="bulk",
                         object_repr=f"{len(created)} facts", changes={"facts": [None, ids or len(created)]})
            if rescore:
                _rescore_on_commit(sorted({f.subject_id for f in created}), HistoryCause.FACT_POSTED)
    return len(new)


def withdraw_fact(fact=None, *, source_app=None, source_model=None, source_pk=None, kind=None, reason, actor=None):
    """Withdraw a fact (by row, id or source reference; without `kind` every kind of that source).
    The row stays, marked withdrawn; the score follows on commit. Withdrawing again changes nothing.
    Returns the facts concerned."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("请填写撤销原因。")]})
    with transaction.atomic():
        if fact is not None:
            qs = CreditFact.objects.filter(pk=fact.pk if isinstance(fact, CreditFact) else fact)
        else:
            if not (source_app and source_model and source_pk is not None):
                raise ValidationFailed(fields={"source": [_("请指明要撤销的记录。")]})
            qs = CreditFact.objects.filter(source_app=source_app, source_model=source_model, source_pk=str(source_pk))
            if kind:
                qs = qs.filter(kind=kind)
        facts = list(qs.select_for_update().order_by("id"))
        if fact is not None and not facts:
            raise NotFound(_("信用记录不存在。"))
        now = timezone.now()
        by = actor if getattr(actor, "is_authenticated", False) else None
        for f in facts:
            if f.withdrawn_at is not None:
                continue
            f.withdrawn_at, f.withdrawn_by, f.withdrawn_reason = now, by, reason[:255]
            f.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
            audit.record(actor, "credit.fact_withdrawn", f, changes={"withdrawn_at": [None, now], "reason": [None, reason]})
            _rescore_on_commit(f.subject_id, HistoryCause.FACT_WITHDRAWN, fact_id=f.pk, actor=actor)
    return facts


def confirm_fact(fact, *, confirmed=True, actor=None):
    """Mark a complaint confirmed (or not) after it was looked into; audited, rescored on commit."""
    with transaction.atomic():
        fact = CreditFact.objects.select_for_update().get(pk=fact.pk if isinstance(fact, CreditFact) else fact)
        if fact.kind != FactKind.COMPLAINT:
            raise ValidationFailed(fields={"confirmed": [_("只有投诉记录可以核实。")]})
        if fact.withdrawn_at is not None:
            raise Conflict(_("记录已撤销。"))
        if fact.confirmed != bool(confirmed):
            audit.record(actor, "credit.fact_confirmed", fact, changes={"confirmed": [fact.confirmed, bool(confirmed)]})
            fact.confirmed = bool(confirmed)
            fact.save(update_fields=["confirmed"])
            _rescore_on_commit(fact.subject_id, HistoryCause.FACT_POSTED, fact_id=fact.pk, actor=actor)
    return fact


# --- Rescoring ---------------------------------------------------------------------------------------

RESCORE_TOPIC = "credit.rescore"


def _rescore_on_commit(subject_ids, cause, *, fact_id=None, actor=None):
    """Rescore these subjects (one id or many) after the commit, through the outbox: written in this
    transaction, so a process that dies right after the commit still has them rescored (the drain)."""
    ids = [subject_ids] if isinstance(subject_ids, int) else list(subject_ids)
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    outbox.publish_many(RESCORE_TOPIC, [{"subject_id": i, "cause": cause, "fact_id": fact_id, "actor_id": actor_id}
                                        for i in ids])


def run_rescore(payload, message=None):
    """The outbox handler of RESCORE_TOPIC (idempotent: a score is computed from the ledger). A subject
    deleted since is nothing to do; any other error raises, so the outbox retries it."""
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.filter(pk=payload["actor_id"]).first() if payload.get("actor_id") else None
    try:
        rescore_subject(payload["subject_id"], cause=payload["cause"], fact_id=payload.get("fact_id"), actor=actor)
    except NotFound:
        log.info("credit: subject %s is gone; nothing to rescore", payload["subject_id"])


def _live_facts(subject_ids: tuple, since) -> list:
    """Live facts of the subjects with ids in [lo, hi], from `since` on, as plain tuples in
    scoring.FACT_COLUMNS order, by id. Both rescoring paths read through here, so they see identical
    rows. A bare cursor and the time as epoch seconds computed by the database: Django's per-value
    converters (datetime parsing) would cost more than the scoring itself on 500,000 rows."""
    lo, hi = subject_ids
    if connection.vendor == "postgresql":
        ts = "EXTRACT(EPOCH FROM occurred_at)::float8"
    else:  # SQLite keeps UTC text; julianday() reads it
        ts = "(julianday(occurred_at) - 2440587.5) * 86400.0"
    sql = (f"SELECT id, subject_id, kind, points, confirmed, leniency, metric, value, {ts} "
           f"FROM {CreditFact._meta.db_table} WHERE subject_id >= %s AND subject_id <= %s "
           f"AND withdrawn_at IS NULL AND occurred_at >= %s ORDER BY id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [lo, hi, connection.ops.adapt_datetimefield_value(since)])
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":  # its booleans are 0/1
        return [(*r[:4], bool(r[4]), *r[5:]) for r in rows]
    return rows


def _apply_override(computed_color, override_row, now):
    """(colour that applies, override id) given the live override (id, colour, expires_at) or None."""
    if override_row and override_row[2] > now:
        return override_row[1], override_row[0]
    return computed_color, None


def rescore_subject(subject_id, *, now=None, cause=HistoryCause.RESCORE, fact_id=None, actor=None) -> CreditScore:
    """Recompute one subject from its facts and write its score (and a history line if the colour
    that applies changed). Ends an expired override on the way."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            subject = (Subject.objects.select_related("category").only("id", "category__id", "category__parent_id")
                       .select_for_update(of=("self",)).get(pk=subject_id))
        except Subject.DoesNotExist:
            raise NotFound(_("管理对象不存在。"))
        policy = _policy_for_subject(subject)
        facts = _live_facts((subject_id, subject_id), now - timedelta(days=policy.lookback_days))
        score, computed, reasons = scoring.compute(facts, policy, now)
        live = (CreditOverride.objects.filter(subject_id=subject_id, ended_at__isnull=True)
                .values_list("id", "color", "expires_at").first())
        if live is not None and live[2] <= now:
            _end_expired_overrides(Q(pk=live[0]), now)
            cause, live = HistoryCause.OVERRIDE_ENDED, None
        color, override_id = _apply_override(computed, live, now)
        before = CreditScore.objects.filter(subject_id=subject_id).values_list("color", flat=True).first()
        values = {"score": score, "computed_color": computed, "color": color, "reasons": reasons,
                  "policy_id": policy.id, "override_id": override_id, "computed_at": now}
        if before is None:
            row = CreditScore.objects.create(subject_id=subject_id, **values)
            before = Color.GREEN  # no history: it was green
        else:
            CreditScore.objects.filter(subject_id=subject_id).update(**values)
            row = CreditScore(subject_id=subject_id, **values)
        if before != color:
            CreditHistory.objects.create(
                subject_id=subject_id, from_color=before, to_color=color, score=score, changed_at=now,
                cause=cause, fact_id=fact_id, detail=_history_detail(cause, reasons, override_id),
                actor=actor if getattr(actor, "is_authenticated", False) else None,
            )
    return row


def _history_detail(cause, reasons, override_id):
    if override_id:
        return _("人工调整生效")
    parts = [f"{f['factor']} {f['points']}" for f in reasons["factors"]]
    parts += [f"{r['metric']} ×{r['consecutive_days']}d → {r['color']}" for r in reasons["sensor_rules"]]
    return ("; ".join(parts) or _("无记录"))[:255]


def _end_expired_overrides(subject_filter: Q, now) -> list:
    """End overrides whose expiry has passed; the subjects' ids."""
    expired = list(CreditOverride.objects.filter(subject_filter, ended_at__isnull=True, expires_at__lte=now)
                   .values_list("id", "subject_id"))
    if expired:
        CreditOverride.objects.filter(pk__in=[i for i, _s in expired]).update(ended_at=now, end_reason="expired")
        for override_id, subject_id in expired:
            audit.record(None, "credit.override_expired", object_type="credit.creditoverride", object_id=override_id,
                         object_repr=str(subject_id), changes={"ended_at": [None, now]})
    return [s for _i, s in expired]


def _write_scores(inserts, updates, history):
    """Score and history rows in bulk. Django's bulk_update builds one CASE per column and batch, which
    costs minutes on 100,000 rows. On PostgreSQL, multi-row statements (psycopg2's execute_values: one
    round trip per 1,000 rows; executemany is a round trip per row, ~half of a full rescore's time);
    on SQLite, in-process, executemany of one prepared statement is as fast."""
    table, history_table = CreditScore._meta.db_table, CreditHistory._meta.db_table
    insert_sql = (f"INSERT INTO {table} (subject_id, score, computed_color, color, reasons, policy_id, override_id, "
                  f"computed_at) VALUES ")
    history_sql = (f"INSERT INTO {history_table} (subject_id, from_color, to_color, score, changed_at, cause, detail) "
                   f"VALUES ")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            raw = cursor.cursor
            if inserts:
                execute_values(raw, insert_sql + "%s", inserts, page_size=1000,
                               template="(%s, %s, %s, %s, %s::jsonb, %s, %s, %s)")
            if updates:
                execute_values(
                    raw,
                    f"UPDATE {table} AS t SET score = v.score, computed_color = v.computed_color, color = v.color, "
                    f"reasons = v.reasons, policy_id = v.policy_id, override_id = v.override_id, "
                    f"computed_at = v.computed_at FROM (VALUES %s) AS v(score, computed_color, color, reasons, "
                    f"policy_id, override_id, computed_at, subject_id) WHERE t.subject_id = v.subject_id",
                    updates, page_size=1000,
                    # typed, so that a page whose first rows hold NULLs still has the columns' types
                    template="(%s::double precision, %s::varchar, %s::varchar, %s::jsonb, %s::bigint, %s::bigint, "
                             "%s::timestamptz, %s::bigint)")
            if history:
                execute_values(raw, history_sql + "%s", history, page_size=1000)
            return
        if inserts:
            cursor.executemany(insert_sql + "(%s, %s, %s, %s, %s, %s, %s, %s)", inserts)
        if updates:
            cursor.executemany(
                f"UPDATE {table} SET score = %s, computed_color = %s, color = %s, reasons = %s, "
                f"policy_id = %s, override_id = %s, computed_at = %s WHERE subject_id = %s", updates)
        if history:
            cursor.executemany(history_sql + "(%s, %s, %s, %s, %s, %s, %s)", history)


def rescore_all(*, now=None, chunk=FULL_RESCORE_CHUNK, category_ids=None, cause=HistoryCause.RESCORE) -> dict:
    """The nightly full rescore (and a policy change's): every subject (or those of `category_ids`),
    in id-range chunks, facts read as plain rows, computed in Python, written in bulk. Gives the same
    rows as rescore_subject for each subject at the same `now`."""
    now = now or timezone.now()
    resolve = policy_resolver()
    lookback = max(p.lookback_days for p in current_policies().values())
    since = now - timedelta(days=lookback)
    stamp = connection.ops.adapt_datetimefield_value(now)
    no_facts = {}
    stats = {"subjects": 0, "facts": 0, "created": 0, "updated": 0, "color_changes": 0, "overrides_ended": 0}
    subjects = Subject.objects.order_by("id")
    if category_ids is not None:
        subjects = subjects.filter(category_id__in=category_ids)
    with transaction.atomic():
        ended = set(_end_expired_overrides(Q(), now))
    stats["overrides_ended"] = len(ended)
    last_id = 0
    while True:
        ids = list(subjects.filter(id__gt=last_id).values_list("id", "category_id")[:chunk])
        if not ids:
            break
        lo, hi = ids[0][0], ids[-1][0]
        last_id = hi
        in_range = Q(subject_id__gte=lo, subject_id__lte=hi)
        with transaction.atomic():
            facts_by_subject = {}
            for row in _live_facts((lo, hi), since):
                facts_by_subject.setdefault(row[1], []).append(row)
            overrides = {r[0]: r[1:] for r in CreditOverride.objects.filter(in_range, ended_at__isnull=True)
                         .values_list("subject_id", "id", "color", "expires_at")}
            existing = {r[0]: r[1:] for r in CreditScore.objects.filter(in_range)
                        .values_list("subject_id", "color", "computed_color", "score", "policy_id", "override_id")}
            to_create, to_update, history = [], [], []
            for subject_id, category_id in ids:
                policy = resolve(category_id)
                facts = facts_by_subject.get(subject_id, ())
                stats["facts"] += len(facts)
                if facts:
                    score, computed, reasons = scoring.compute(facts, policy, now)
                    reasons_json = _to_json(reasons)
                else:  # most subjects: the same answer for everyone under this policy, computed once
                    if policy.id not in no_facts:
                        score, computed, reasons = scoring.compute((), policy, now)
                        no_facts[policy.id] = (score, computed, reasons, _to_json(reasons))
                    score, computed, reasons, reasons_json = no_facts[policy.id]
                color, override_id = _apply_override(computed, overrides.get(subject_id), now)
                old = existing.get(subject_id)
                if old is None:
                    to_create.append((subject_id, score, computed, color, reasons_json, policy.id, override_id, stamp))
                elif facts or old != (color, computed, score, policy.id, override_id):
                    to_update.append((score, computed, color, reasons_json, policy.id, override_id, stamp, subject_id))
                before = old[0] if old else Color.GREEN
                if before != color:
                    history.append((subject_id, before, color, score, stamp,
                                    str(HistoryCause.OVERRIDE_ENDED if subject_id in ended else cause),
                                    _history_detail(cause, reasons, override_id)))
            _write_scores(to_create, to_update, history)
        stats["subjects"] += len(ids)
        stats["created"] += len(to_create)
        stats["updated"] += len(to_update)
        stats["color_changes"] += len(history)
    return stats


# --- Overrides -------------------------------------------------------------------------------------

def _require_bureau_for_subject(actor, subject: Subject):
    if not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以人工调整信用颜色。"))
    if not grid_selectors.user_covers_area(actor, subject.grid):
        raise NotFound(_("管理对象不存在。"))


def set_override(actor, subject: Subject, *, color, reason, expires_at) -> CreditOverride:
    """Bureau staff set the colour by hand until `expires_at`; a live override is ended first."""
    _require_bureau_for_subject(actor, subject)
    errors = {}
    if color not in Color.values:
        errors["color"] = [_("颜色必须是 green、yellow 或 red。")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请填写调整原因。")]
    elif len(reason) > 255:
        errors["reason"] = [_("最多 255 个字符。")]
    try:
        expires = _clean_expiry(expires_at)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    now = timezone.now()
    with transaction.atomic():
        Subject.objects.select_for_update(of=("self",)).filter(pk=subject.pk).first()
        for old in CreditOverride.objects.filter(subject=subject, ended_at__isnull=True):
            old.ended_at, old.ended_by, old.end_reason = now, actor, _("被新的调整取代")
            old.save(update_fields=["ended_at", "ended_by", "end_reason"])
        override = CreditOverride.objects.create(subject=subject, color=color, reason=reason, expires_at=expires,
                                                 created_by=actor)
        audit.record(actor, "credit.override_set", override, changes={
            "color": [None, color], "reason": [None, reason], "expires_at": [None, expires]})
        # In the same transaction (one subject, cheap): the colour and its history commit with the override.
        rescore_subject(subject.pk, cause=HistoryCause.OVERRIDE, actor=actor)
    return override


def _clean_expiry(value):
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValidationFailed(fields={"expires_at": [_("时间格式无效。")]})
        value = parsed
    if not isinstance(value, datetime):
        raise ValidationFailed(fields={"expires_at": [_("请填写到期时间。")]})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value <= timezone.now():
        raise ValidationFailed(fields={"expires_at": [_("到期时间必须晚于现在。")]})
    if value > timezone.now() + timedelta(days=366):
        raise ValidationFailed(fields={"expires_at": [_("人工调整最长一年。")]})
    return value


def end_override(actor, subject: Subject, *, reason="") -> CreditOverride:
    _require_bureau_for_subject(actor, subject)
    with transaction.atomic():
        override = CreditOverride.objects.select_for_update().filter(subject=subject, ended_at__isnull=True).first()
        if override is None:
            raise NotFound(_("该对象没有生效中的人工调整。"))
        now = timezone.now()
        override.ended_at, override.ended_by = now, actor
        override.end_reason = (reason or "").strip()[:255] or _("人工撤销")
        override.save(update_fields=["ended_at", "ended_by", "end_reason"])
        audit.record(actor, "credit.override_ended", override, changes={"ended_at": [None, now]})
        rescore_subject(subject.pk, cause=HistoryCause.OVERRIDE_ENDED, actor=actor)
    return override


def expire_override_if_due(subject_id, now=None) -> bool:
    """Read-time check: an override past its expiry stops applying now, not only at night."""
    now = now or timezone.now()
    if CreditOverride.objects.filter(subject_id=subject_id, ended_at__isnull=True, expires_at__lte=now).exists():
        rescore_subject(subject_id, now=now, cause=HistoryCause.OVERRIDE_ENDED)
        return True
    return False


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


def run_rescore_all(payload, message=None):
    """The outbox handler of RESCORE_ALL_TOPIC (idempotent: scores are computed from the ledger)."""
    return rescore_all(category_ids=payload.get("category_ids"), cause=payload.get("cause") or HistoryCause.RESCORE)


def register_followups():
    """Called from CreditConfig.ready()."""
    outbox.register(RESCORE_TOPIC, "credit.rescore", run_rescore)
    outbox.register(RESCORE_ALL_TOPIC, "credit.rescore_all", run_rescore_all, deferred=True)


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


def update_policy(actor, policy: CreditPolicy, **data) -> CreditPolicy:
    """An edit is a new version; the old one is retired and kept."""
    _require_district_bureau(actor)
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


# --- Sensor readings --------------------------------------------------------------------------------

SENSOR_ROLES = (API_CLIENT, BUREAU_STAFF, DISPATCHER)


def sensor_value_range(metric: str) -> tuple[float, float]:
    """The plausible (low, high) of a metric's readings (settings.CREDIT_SENSOR_VALUE_RANGES, "*" otherwise)."""
    ranges = settings.CREDIT_SENSOR_VALUE_RANGES
    low, high = ranges.get(metric, ranges["*"])
    return float(low), float(high)


def record_sensor_reading(actor, *, device_id, subject, metric, value, measured_at):
    """Store a monitor's reading; (reading, created). The same device and time again answers the first
    reading (created False), or 409 if the values differ. A reading over a sensor rule's limit posts a
    sensor_exceedance fact (at most one per subject, metric and day), which the rules count in days."""
    if not has_role(actor, *SENSOR_ROLES):
        raise Forbidden(_("您的角色无权上报监测数据。"))
    errors = {}
    if not grid_selectors.user_covers_area(actor, subject.grid):  # another street's: as if it did not exist
        errors["subject"] = [_("管理对象不存在。")]
    device_id = (device_id or "").strip() if isinstance(device_id, str) else device_id
    if not isinstance(device_id, str) or not device_id or len(device_id) > 64:
        errors["device_id"] = [_("必填，最多 64 个字符。")]
    metric = metric.strip() if isinstance(metric, str) else metric
    if not isinstance(metric, str) or not metric or len(metric) > 32:
        errors["metric"] = [_("必填，最多 32 个字符。")]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        errors["value"] = [_("必须是数值。")]
    elif "metric" not in errors:
        low, high = sensor_value_range(metric)
        if not low <= value <= high:  # a broken or forged monitor must not turn a shop red
            errors["value"] = [_("%(metric)s 的数值必须在 %(low)g 到 %(high)g 之间。") % {
                "metric": metric, "low": low, "high": high}]
    try:
        measured_at = _clean_when(measured_at, "measured_at") if measured_at is not None else None
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if measured_at is None and "measured_at" not in errors:
        errors["measured_at"] = [_("此字段为必填项。")]
    elif measured_at is not None and measured_at < timezone.now() - timedelta(days=settings.CREDIT_SENSOR_MAX_AGE_DAYS):
        errors["measured_at"] = [_("监测时间过早（最多 %(days)s 天前）。") % {"days": settings.CREDIT_SENSOR_MAX_AGE_DAYS}]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        existing = SensorReading.objects.filter(device_id=device_id, measured_at=measured_at).first()
        if existing is None:
            try:
                with transaction.atomic():
                    reading = SensorReading.objects.create(
                        device_id=device_id, subject=subject, metric=metric, value=float(value),
                        measured_at=measured_at, posted_by=actor if getattr(actor, "is_authenticated", False) else None)
            except IntegrityError:
                existing = SensorReading.objects.get(device_id=device_id, measured_at=measured_at)
        if existing is not None:
            if (existing.subject_id, existing.metric, existing.value) != (subject.pk, metric, float(value)):
                raise Conflict(_("该设备在此时间已有不同的监测数据。"))
            return existing, False
        audit.record(actor, "credit.sensor_reading", reading, changes={"value": [None, reading.value]})
        _post_exceedance_if_over(actor, reading)
    return reading, True


def _post_exceedance_if_over(actor, reading: SensorReading):
    policy = _policy_for_subject(Subject.objects.select_related("category").get(pk=reading.subject_id))
    limits = [float(r["limit"]) for r in policy.sensor_rules if r.get("metric") == reading.metric]
    if not limits or reading.value <= min(limits):
        return
    local = timezone.localtime(reading.measured_at)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    same_day = CreditFact.objects.filter(
        subject_id=reading.subject_id, kind=FactKind.SENSOR_EXCEEDANCE, metric=reading.metric,
        withdrawn_at__isnull=True, occurred_at__gte=day_start, occurred_at__lt=day_start + timedelta(days=1),
    ).values_list("value", flat=True)
    # One fact per day is enough for the day count; a higher reading the same day adds its own fact
    # so the day's maximum stays on the ledger.
    if any(v is not None and v >= reading.value for v in same_day):
        return
    post_fact(reading.subject_id, FactKind.SENSOR_EXCEEDANCE, source_app="credit", source_model="sensorreading",
              source_pk=reading.pk, occurred_at=reading.measured_at, metric=reading.metric, value=reading.value,
              source_text=_("%(device)s %(metric)s=%(value)s 超过限值 %(limit)s") % {
                  "device": reading.device_id, "metric": reading.metric, "value": reading.value, "limit": min(limits)},
              actor=actor)
