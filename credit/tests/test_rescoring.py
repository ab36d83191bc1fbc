"""Rescoring (credit.services.rescoring): one subject and all of them agree; the night's decay and
expired overrides."""
import random
from datetime import timedelta

import pytest
from django.utils import timezone

from credit.choices import FactKind
from credit.models import CreditHistory, CreditPolicy, CreditScore
from credit.services import facts, overrides, rescoring

pytestmark = pytest.mark.django_db

REF = {"source_app": "enforcement", "source_model": "case"}


def post(subject, kind=FactKind.VIOLATION, pk=1, **kw):
    return facts.post_fact(subject, kind, **REF, source_pk=pk, **kw)


def _snapshot():
    return {r[0]: r[1:] for r in CreditScore.objects.order_by("subject_id").values_list(
        "subject_id", "score", "color", "computed_color", "reasons", "policy_id", "override_id")}


def test_incremental_and_full_rescore_agree(subjects, categories, district, users, on_commit):
    from grids.models import Subject

    rng = random.Random(3)
    extra = [Subject.objects.create(name=f"店{i}", category=categories["restaurant"], lat=30.2, lng=120.2,
                                    grid=district["S1G1"]) for i in range(25)]
    everyone = [*subjects.values(), *extra]
    now = timezone.now()
    CreditPolicy.objects.filter(category__isnull=True).update(half_life_days=45)
    for n in range(150):
        s = rng.choice(everyone)
        kind = rng.choice([k for k in FactKind.values if k != FactKind.SENSOR_EXCEEDANCE])
        facts.post_fact(s, kind, source_app="t", source_model="m", source_pk=n,
                        occurred_at=now - timedelta(days=rng.uniform(0, 300)),
                        points=rng.choice([None, 2.5, 6, 12]), confirmed=rng.random() < 0.5,
                        leniency=rng.choice(["", "first"]) if kind == FactKind.VIOLATION else "")
    for n, day in enumerate((1, 2, 9)):
        facts.post_fact(everyone[0], FactKind.SENSOR_EXCEEDANCE, source_app="t", source_model="s", source_pk=n,
                        occurred_at=now - timedelta(days=day), metric="fume", value=3.0)
    overrides.set_override(users["bureau"], everyone[1], color="red", reason="专项整治", expires_at=now + timedelta(days=3))
    for s in everyone:
        rescoring.rescore_subject(s.pk, now=now)
    incremental = _snapshot()
    assert {v[1] for v in incremental.values()} >= {"green", "yellow", "red"}
    CreditScore.objects.all().delete()
    CreditHistory.objects.all().delete()
    stats = rescoring.rescore_all(now=now, chunk=7)
    assert stats["subjects"] == len(everyone) and stats["created"] == len(everyone)
    assert _snapshot() == incremental
    # Run again at the same time: same rows, no colour change recorded.
    rescoring.rescore_all(now=now)
    assert _snapshot() == incremental
    assert CreditHistory.objects.filter(changed_at__gt=now).count() == 0


def test_nightly_rescore_applies_decay(subjects, on_commit):
    CreditPolicy.objects.filter(category__isnull=True).update(half_life_days=30)
    on_commit(post, subjects["s1"], pk=1, points=30, occurred_at=timezone.now() - timedelta(hours=1))
    assert CreditScore.objects.get(subject=subjects["s1"]).color == "red"
    rescoring.rescore_all(now=timezone.now() + timedelta(days=31))
    score = CreditScore.objects.get(subject=subjects["s1"])
    assert score.color == "yellow" and 14 < score.score < 15
    assert CreditHistory.objects.filter(subject=subjects["s1"], cause="rescore", to_color="yellow").exists()


def test_nightly_rescore_ends_expired_overrides(subjects, users, on_commit):
    s = subjects["s1"]
    expires = timezone.now() + timedelta(hours=1)
    on_commit(overrides.set_override, users["bureau"], s, color="yellow", reason="回头看", expires_at=expires)
    stats = rescoring.rescore_all(now=expires + timedelta(hours=1))
    assert stats["overrides_ended"] == 1
    assert CreditScore.objects.get(subject=s).color == "green"
    assert CreditHistory.objects.filter(subject=s, cause="override_ended").exists()
