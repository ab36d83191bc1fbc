"""The ledger: facts about subjects, posted and withdrawn by the apps that know them (THE entry points for
other apps). One transaction per action, audited; the subjects are rescored on commit.

Other apps call:
    post_fact(subject, kind, source_app=..., source_model=..., source_pk=..., points=None, occurred_at=None,
              confirmed=False, leniency="", source_text="", actor=None)   → (fact, created)
    withdraw_fact(fact=None, source_app=..., source_model=..., source_pk=..., kind=None, reason=..., actor=None)
Both are idempotent by the source reference (app label + model + pk [+ kind]).
A rectification's life is told by the poster: post rectification_open when the deadline is set,
rectification_overdue when it passes, withdraw both when it is done and post rectification_late if late.
"""
import math
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core import audit, bulk
from core.exceptions import Conflict, NotFound, ValidationFailed
from credit.choices import FactKind, HistoryCause, Leniency
from credit.models import CreditFact
from credit.services.rescoring import rescore_on_commit
from grids.models import Subject

CLOCK_SKEW = timedelta(minutes=10)  # a poster's clock may run a little ahead of ours


def clean_when(value, field="occurred_at"):
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
              confirmed=False, leniency="", source_text="", metric="", value=None, actor=None, rescore=True,
              new_source=False):
    """Record a fact about a subject; (fact, created). The same source reference and kind again returns
    the first fact unchanged (created False). The subject is rescored when the transaction commits
    (rescore=False: a bulk loader that runs rescore_all itself afterwards).

    `new_source`: the caller created the source row in its own open transaction just now (an event at
    intake) and has read the subject in it: no fact of that source can exist yet, so the look-ups and
    savepoints are skipped; the unique constraint still holds (a clash rolls back the caller's transaction).
    Such a fact is rescored by a worker right after the commit (the request that posted it does not wait)."""
    source_pk = str(source_pk)
    source_text = _clean_fact(kind, points, leniency or "", source_app, source_model, source_pk, source_text,
                              metric, value)
    occurred_at = clean_when(occurred_at)
    subject_id = subject.pk if isinstance(subject, Subject) else subject
    key = {"source_app": source_app, "source_model": source_model, "source_pk": source_pk, "kind": kind}

    def create():
        # A plain INSERT (core.bulk): an intake with a subject posts one; nothing listens to facts' saves.
        (fact,) = bulk.insert_objects([CreditFact(
            subject_id=subject_id, points=None if points is None else float(points),
            confirmed=bool(confirmed), leniency=leniency or "", occurred_at=occurred_at,
            source_text=source_text, metric=metric or "", value=value,
            posted_by=actor if getattr(actor, "is_authenticated", False) else None, **key,
        )])
        return fact

    if new_source:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("post_fact(new_source=True) runs in the caller's transaction")
        fact = create()
    else:
        with transaction.atomic():
            existing = CreditFact.objects.filter(**key).first()
            if existing is None:
                if not Subject.objects.filter(pk=subject_id).exists():
                    raise NotFound(_("管理对象不存在。"))
                try:
                    with transaction.atomic():  # a savepoint: a concurrent twin may win the unique constraint
                        fact = create()
                except IntegrityError:
                    existing = CreditFact.objects.get(**key)
            if existing is not None:
                if existing.subject_id != subject_id:
                    raise Conflict(_("该来源记录已登记在另一个管理对象名下。"))
                return existing, False
    with transaction.atomic(savepoint=False):
        audit.record(actor, "credit.fact_posted", fact, changes={
            "kind": [None, kind], "subject": [None, subject_id], "points": [None, fact.points],
            "occurred_at": [None, occurred_at], "source": [None, fact.source_ref],
        })
        if rescore:
            rescore_on_commit(subject_id, HistoryCause.FACT_POSTED, fact_id=fact.pk, actor=actor, in_worker=new_source)
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
            occurred_at = clean_when(item.get("occurred_at"))
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
                rescore_on_commit(sorted({f.subject_id for f in created}), HistoryCause.FACT_POSTED)
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
            rescore_on_commit(f.subject_id, HistoryCause.FACT_WITHDRAWN, fact_id=f.pk, actor=actor)
    return facts


def set_contested(*, source_app, source_model, source_pk, contested: bool, reason, actor=None):
    """Mark the live facts of a source reference contested (an appeal is open) or no longer contested
    (the appeal was decided). Audited; the facts keep counting, the subject's credit says "under review"
    while any is contested. Returns the facts concerned."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("请填写原因。")]})
    with transaction.atomic():
        facts = list(CreditFact.objects.select_for_update().filter(
            source_app=source_app, source_model=source_model, source_pk=str(source_pk), withdrawn_at__isnull=True,
        ).order_by("id"))
        now = timezone.now()
        for f in facts:
            new = now if contested else None
            if (f.contested_at is None) == (new is None):
                continue
            audit.record(actor, "credit.fact_contested" if contested else "credit.fact_uncontested", f,
                         changes={"contested_at": [f.contested_at, new], "reason": [None, reason[:255]]})
            f.contested_at = new
            f.save(update_fields=["contested_at"])
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
            rescore_on_commit(fact.subject_id, HistoryCause.FACT_POSTED, fact_id=fact.pk, actor=actor)
    return fact
