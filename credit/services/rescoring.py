"""Rescoring: a subject's score, colour and reasons recomputed from its ledger (credit.scoring is the pure
computation). Two paths give the same rows: one subject after a fact's commit (through the outbox), and
every subject at night (decay, expired overrides) or after a policy change, in bulk.
"""
import json
import logging
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, outbox
from core.exceptions import NotFound
from credit import scoring
from credit.choices import Color, HistoryCause
from credit.models import CreditFact, CreditHistory, CreditOverride, CreditScore
from credit.services.policies import RESCORE_ALL_TOPIC, current_policies, policy_for_subject, policy_resolver
from grids.models import Subject

log = logging.getLogger(__name__)

FULL_RESCORE_CHUNK = 5000
_to_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode  # compact: 100,000 rows a night

RESCORE_TOPIC = "credit.rescore"
# The same rescore, run by a Celery worker instead of the committing process (inline when tasks are eager):
# for facts posted on a request's latency path that nobody watches within milliseconds (a complaint at intake).
RESCORE_IN_WORKER_TOPIC = "credit.rescore.in_worker"


def rescore_on_commit(subject_ids, cause, *, fact_id=None, actor=None, in_worker=False):
    """Rescore these subjects (one id or many) after the commit, through the outbox: written in this
    transaction, so a process that dies right after the commit still has them rescored (the drain).
    `in_worker`: by a Celery worker right after the commit, not by the committing process."""
    ids = [subject_ids] if isinstance(subject_ids, int) else list(subject_ids)
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    outbox.publish_many(RESCORE_IN_WORKER_TOPIC if in_worker else RESCORE_TOPIC, [{"subject_id": i, "cause": cause, "fact_id": fact_id, "actor_id": actor_id}
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


def _compute_one(subject_id, policy, now):
    """(score, computed colour, reasons) of one subject from its ledger, written nowhere."""
    facts = _live_facts((subject_id, subject_id), now - timedelta(days=policy.lookback_days))
    return scoring.compute(facts, policy, now)


def score_from_ledger(subject: Subject, now=None) -> CreditScore:
    """What its ledger says of a subject never scored yet, as an unsaved row: a read shows it and writes
    nothing (the row is stored by the rescoring on its facts' commit, or at night)."""
    now = now or timezone.now()
    policy = policy_for_subject(subject)
    score, computed, reasons = _compute_one(subject.pk, policy, now)
    return CreditScore(subject_id=subject.pk, score=score, computed_color=computed, color=computed, reasons=reasons,
                       policy_id=policy.id, computed_at=now)


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
        policy = policy_for_subject(subject)
        score, computed, reasons = _compute_one(subject_id, policy, now)
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


# --- Follow-ups through the outbox ----------------------------------------------------------------

def run_rescore_all(payload, message=None):
    """The outbox handler of RESCORE_ALL_TOPIC (idempotent: scores are computed from the ledger)."""
    return rescore_all(category_ids=payload.get("category_ids"), cause=payload.get("cause") or HistoryCause.RESCORE)


def register_followups():
    """Called from CreditConfig.ready()."""
    outbox.register(RESCORE_TOPIC, "credit.rescore", run_rescore)
    outbox.register(RESCORE_IN_WORKER_TOPIC, "credit.rescore.in_worker", run_rescore, deferred=True)
    outbox.register(RESCORE_ALL_TOPIC, "credit.rescore_all", run_rescore_all, deferred=True)
