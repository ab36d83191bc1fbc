"""Reads of credit, scoped by the asking user's areas (through grids.selectors)."""
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import NotFound
from credit.choices import FactKind
from credit.models import CreditFact, CreditHistory, CreditOverride, CreditPolicy, CreditScore, SensorReading
from credit.services import rescoring
from grids import selectors as grid_selectors

HISTORY_LIMIT = 100


def credit_for(user, subject_id) -> dict:
    """Everything GET /subjects/{id}/credit/ shows: score, colour, reasons, override, history.
    Another area's subject is 404. A read writes nothing: a subject never scored is shown as its ledger
    says, and an override past its expiry as no longer applying; the rescoring (on a fact's commit, at
    night) stores both."""
    subject = grid_selectors.get_subject_for(user, subject_id)
    now = timezone.now()
    score = CreditScore.objects.filter(subject_id=subject.pk).select_related("policy").first()
    if score is None:
        score = rescoring.score_from_ledger(subject, now)
    override = (CreditOverride.objects.filter(subject_id=subject.pk, ended_at__isnull=True, expires_at__gt=now)
                .select_related("created_by").first())
    score.color = override.color if override else score.computed_color
    history = list(CreditHistory.objects.filter(subject_id=subject.pk).select_related("actor")[:HISTORY_LIMIT])
    score.reasons = enrich_reasons(score.reasons)
    under_review = CreditFact.objects.filter(subject_id=subject.pk, withdrawn_at__isnull=True,
                                             contested_at__isnull=False).exists()
    return {"subject": subject, "score": score, "override": override, "history": history,
            "under_review": under_review}


def enrich_reasons(reasons: dict) -> dict:
    """The stored reasons name facts by id (compact: written 100,000 times a night); for readers, add
    each fact's source reference, text, time, kind details and withdrawal, in one query."""
    factors = (reasons or {}).get("factors") or []
    ids = {f["id"] for factor in factors for f in factor.get("facts", ())}
    if not ids:
        return reasons
    rows = {r["id"]: r for r in CreditFact.objects.filter(pk__in=ids).values(
        "id", "kind", "source_app", "source_model", "source_pk", "source_text", "occurred_at", "confirmed",
        "leniency", "metric", "value", "withdrawn_at", "contested_at")}
    out = dict(reasons)
    out["factors"] = []
    for factor in factors:
        facts = []
        for f in factor.get("facts", ()):
            row = rows.get(f["id"])
            entry = dict(f)
            if row is not None:
                entry.update(ref=f"{row['source_app']}.{row['source_model']}:{row['source_pk']}",
                             text=row["source_text"], occurred_at=row["occurred_at"].isoformat())
                if row["kind"] == FactKind.COMPLAINT:
                    entry["confirmed"] = row["confirmed"]
                elif row["kind"] == FactKind.VIOLATION and row["leniency"]:
                    entry["leniency"] = row["leniency"]
                elif row["kind"] == FactKind.SENSOR_EXCEEDANCE:
                    entry["metric"], entry["value"] = row["metric"], row["value"]
                if row["contested_at"] is not None and row["withdrawn_at"] is None:
                    entry["under_review"] = True  # an appeal against it is open (复议/申诉中)
                if row["withdrawn_at"] is not None:  # withdrawn since this score was computed
                    entry["withdrawn_at"] = row["withdrawn_at"].isoformat()
            facts.append(entry)
        out["factors"].append({**factor, "facts": facts})
    return out


def facts_for(user, subject_id, *, include_withdrawn=True) -> QuerySet:
    subject = grid_selectors.get_subject_for(user, subject_id)
    qs = CreditFact.objects.filter(subject_id=subject.pk).select_related("posted_by", "withdrawn_by")
    return qs if include_withdrawn else qs.filter(withdrawn_at__isnull=True)


def policies(*, include_retired=False, category=None) -> QuerySet:
    qs = CreditPolicy.objects.select_related("category", "created_by").order_by("category_id", "-version")
    if not include_retired:
        qs = qs.filter(is_current=True)
    if category is not None:
        qs = qs.filter(category_id=category) if category != "default" else qs.filter(category__isnull=True)
    return qs


def get_policy(policy_id) -> CreditPolicy:
    try:
        return CreditPolicy.objects.select_related("category").get(pk=policy_id)
    except (CreditPolicy.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("评分规则不存在。"))


def sensor_readings_for(user) -> QuerySet:
    return grid_selectors.scope(SensorReading.objects.select_related("subject"), user, "subject__grid__path")
