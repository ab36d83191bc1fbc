"""The ledger, rescoring (incremental and full agree), overrides, policies and sensor readings."""
import random
from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import AuditLog
from credit.choices import FactKind
from credit.models import CreditFact, CreditHistory, CreditOverride, CreditPolicy, CreditScore, SensorReading
from credit.services import facts, overrides, policies, rescoring, sensors

pytestmark = pytest.mark.django_db

REF = {"source_app": "enforcement", "source_model": "case"}


def post(subject, kind=FactKind.VIOLATION, pk=1, **kw):
    return facts.post_fact(subject, kind, **REF, source_pk=pk, **kw)


def test_post_fact_rescores_on_commit_and_is_idempotent(subjects, on_commit, users):
    fact, created = on_commit(post, subjects["s1"], pk=10, points=15, actor=users["bureau"])
    assert created
    score = CreditScore.objects.get(subject=subjects["s1"])
    assert (score.score, score.color) == (15, "yellow")
    assert score.reasons["factors"][0]["facts"][0]["id"] == fact.pk
    again, created = on_commit(post, subjects["s1"], pk=10, points=99)
    assert (again.pk, created, again.points) == (fact.pk, False, 15)
    assert CreditFact.objects.count() == 1
    (h,) = CreditHistory.objects.filter(subject=subjects["s1"])
    assert (h.from_color, h.to_color, h.cause, h.fact_id) == ("green", "yellow", "fact_posted", fact.pk)
    assert AuditLog.objects.filter(action="credit.fact_posted", object_id=str(fact.pk)).exists()


def test_same_source_for_another_subject_is_a_conflict(subjects, on_commit):
    on_commit(post, subjects["s1"], pk=11)
    with pytest.raises(Conflict):
        post(subjects["s2"], pk=11)


@pytest.mark.parametrize("kw,field", [
    ({"kind": "gossip"}, "kind"),
    ({"points": -1}, "points"),
    ({"points": float("nan")}, "points"),
    ({"kind": FactKind.COMPLAINT, "leniency": "first"}, "leniency"),
    ({"leniency": "friendly"}, "leniency"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"occurred_at": timezone.now() + timedelta(days=2)}, "occurred_at"),
    ({"kind": FactKind.SENSOR_EXCEEDANCE}, "metric"),
])
def test_post_fact_refuses_bad_input(subjects, kw, field):
    kind = kw.pop("kind", FactKind.VIOLATION)
    with pytest.raises(ValidationFailed) as exc:
        facts.post_fact(subjects["s1"], kind, **REF, source_pk=1, **kw)
    assert field in exc.value.fields
    assert not CreditFact.objects.exists()


def test_post_fact_unknown_subject(db):
    with pytest.raises(NotFound):
        facts.post_fact(987654, FactKind.COMPLAINT, **REF, source_pk=1)


def test_withdraw_keeps_the_row_and_the_score_follows(subjects, on_commit, users):
    on_commit(post, subjects["s1"], pk=1, points=20)
    on_commit(post, subjects["s1"], pk=2, points=10)
    assert CreditScore.objects.get(subject=subjects["s1"]).color == "red"
    withdrawn = on_commit(facts.withdraw_fact, source_app="enforcement", source_model="case", source_pk=2,
                          reason="复议撤销", actor=users["bureau"])
    assert len(withdrawn) == 1
    score = CreditScore.objects.get(subject=subjects["s1"])
    assert (score.score, score.color) == (20, "yellow")
    row = CreditFact.objects.get(source_pk="2")
    assert row.withdrawn_at and row.withdrawn_by == users["bureau"] and row.withdrawn_reason == "复议撤销"
    # Again: nothing changes; no reason: refused.
    on_commit(facts.withdraw_fact, row, reason="again")
    assert CreditFact.objects.get(pk=row.pk).withdrawn_reason == "复议撤销"
    with pytest.raises(ValidationFailed):
        facts.withdraw_fact(row, reason=" ")
    causes = list(CreditHistory.objects.filter(subject=subjects["s1"]).order_by("id").values_list("cause", "to_color"))
    assert causes == [("fact_posted", "yellow"), ("fact_posted", "red"), ("fact_withdrawn", "yellow")]


def test_confirming_a_complaint_raises_its_weight(subjects, on_commit):
    fact, _ = on_commit(facts.post_fact, subjects["s1"], FactKind.COMPLAINT, source_app="command_center",
                        source_model="event", source_pk=5)
    assert CreditScore.objects.get(subject=subjects["s1"]).score == 0.9
    on_commit(facts.confirm_fact, fact)
    assert CreditScore.objects.get(subject=subjects["s1"]).score == 3


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


def test_override_applies_beside_the_computed_colour_and_expires(subjects, users, on_commit):
    s = subjects["s1"]
    expires = timezone.now() + timedelta(days=2)
    on_commit(overrides.set_override, users["bureau"], s, color="red", reason="群众反映强烈", expires_at=expires)
    score = CreditScore.objects.get(subject=s)
    assert (score.color, score.computed_color, score.override.reason) == ("red", "green", "群众反映强烈")
    # A rescore after the expiry (a fact's, the night's) ends the override; the history says so.
    rescoring.rescore_subject(s.pk, now=expires + timedelta(seconds=1))
    score = CreditScore.objects.get(subject=s)
    assert (score.color, score.override_id) == ("green", None)
    assert CreditOverride.objects.get().end_reason == "expired"
    assert list(CreditHistory.objects.filter(subject=s).order_by("id").values_list("cause", "to_color")) == [
        ("override", "red"), ("override_ended", "green")]


def test_nightly_rescore_ends_expired_overrides(subjects, users, on_commit):
    s = subjects["s1"]
    expires = timezone.now() + timedelta(hours=1)
    on_commit(overrides.set_override, users["bureau"], s, color="yellow", reason="回头看", expires_at=expires)
    stats = rescoring.rescore_all(now=expires + timedelta(hours=1))
    assert stats["overrides_ended"] == 1
    assert CreditScore.objects.get(subject=s).color == "green"
    assert CreditHistory.objects.filter(subject=s, cause="override_ended").exists()


def test_override_refusals(subjects, users):
    later = timezone.now() + timedelta(days=1)
    with pytest.raises(Forbidden):
        overrides.set_override(users["leader_s1"], subjects["s1"], color="red", reason="x", expires_at=later)
    with pytest.raises(NotFound):
        overrides.set_override(users["bureau_s1"], subjects["s2"], color="red", reason="x", expires_at=later)
    with pytest.raises(ValidationFailed) as exc:
        overrides.set_override(users["bureau"], subjects["s1"], color="purple", reason="", expires_at=timezone.now())
    assert set(exc.value.fields) == {"color", "reason", "expires_at"}
    assert not CreditOverride.objects.exists()


def test_policy_edit_is_a_new_version_and_rescores(subjects, users, on_commit, eager):
    on_commit(post, subjects["s1"], pk=1, points=16)
    assert CreditScore.objects.get(subject=subjects["s1"]).color == "yellow"
    old = CreditPolicy.objects.get(category__isnull=True, is_current=True)
    new = on_commit(policies.update_policy, users["bureau"], old, yellow_from=20, red_from=30, note="放宽")
    assert (new.version, new.is_current, new.yellow_from) == (old.version + 1, True, 20)
    old.refresh_from_db()
    assert not old.is_current and old.retired_at and old.yellow_from == 14
    score = CreditScore.objects.get(subject=subjects["s1"])
    assert (score.color, score.policy_id) == ("green", new.pk)
    assert CreditHistory.objects.filter(subject=subjects["s1"], cause="policy").exists()
    assert AuditLog.objects.filter(action="credit.policy_updated", object_id=str(new.pk)).exists()
    with pytest.raises(Conflict):
        policies.update_policy(users["bureau"], old, yellow_from=1)


def test_category_policy_applies_to_its_subjects_then_falls_back(subjects, categories, users, on_commit, eager):
    on_commit(post, subjects["s1"], pk=1, points=10)
    on_commit(post, subjects["site"], pk=2, points=10)
    food = on_commit(policies.create_policy, users["bureau"], category=categories["food"], yellow_from=5, red_from=9)
    assert CreditScore.objects.get(subject=subjects["s1"]).color == "red"  # restaurant < food
    assert CreditScore.objects.get(subject=subjects["site"]).color == "green"
    with pytest.raises(Conflict):
        policies.create_policy(users["bureau"], category=categories["food"])
    on_commit(policies.retire_policy, users["bureau"], food)
    assert CreditScore.objects.get(subject=subjects["s1"]).color == "green"
    with pytest.raises(Conflict):
        policies.retire_policy(users["bureau"], CreditPolicy.objects.get(category__isnull=True, is_current=True))


@pytest.mark.parametrize("data,field", [
    ({"yellow_from": 30, "red_from": 20}, "red_from"),
    ({"window_days": 0}, "window_days"),
    ({"weights": {"gossip": 1}}, "weights"),
    ({"weights": {"complaint": -2}}, "weights"),
    ({"sensor_rules": [{"metric": "fume", "limit": 2, "days": 0, "color": "blue"}]}, "sensor_rules"),
    ({"sensor_rules": "fume>2"}, "sensor_rules"),
    ({"sensor_rules": [{"metric": "fu\x00me", "limit": 2, "days": 1, "color": "red"}]}, "sensor_rules"),
    ({"half_life_days": "soon"}, "half_life_days"),
])
def test_policy_validation(users, data, field):
    old = CreditPolicy.objects.get(category__isnull=True, is_current=True)
    with pytest.raises(ValidationFailed) as exc:
        policies.update_policy(users["bureau"], old, **data)
    assert field in exc.value.fields
    assert CreditPolicy.objects.filter(category__isnull=True).count() == 1


def test_only_district_bureau_edits_policies(users):
    old = CreditPolicy.objects.get(category__isnull=True, is_current=True)
    for who in ("bureau_s1", "leader_s1", "dispatcher"):
        with pytest.raises(Forbidden):
            policies.update_policy(users[who], old, yellow_from=10)


def _reading(user, subject, day, value=3.2, device="FUME-1", hour=12):
    when = timezone.localtime() .replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(days=day)
    return sensors.record_sensor_reading(user, device_id=device, subject=subject, metric="fume", value=value,
                                         measured_at=when)


def test_sensor_rule_one_day_yellow_two_consecutive_days_red(subjects, users, on_commit):
    s = subjects["s1"]
    on_commit(_reading, users["platform"], s, 5, value=1.0)  # under the limit: no fact
    assert not CreditFact.objects.exists()
    on_commit(_reading, users["platform"], s, 3)
    score = CreditScore.objects.get(subject=s)
    assert score.color == "yellow" and score.reasons["sensor_rules"][0]["consecutive_days"] == 1
    on_commit(_reading, users["platform"], s, 3, value=4.0, hour=13)  # same day, higher: the day's max kept
    on_commit(_reading, users["platform"], s, 3, value=2.5, hour=14)  # same day, lower: nothing new
    assert CreditFact.objects.count() == 2
    on_commit(_reading, users["platform"], s, 2)
    score = CreditScore.objects.get(subject=s)
    assert score.color == "red" and score.reasons["sensor_rules"][-1]["consecutive_days"] == 2
    assert 3.9 < score.score <= 4  # two days over the limit, 2 points each (decayed a little)


def test_sensor_readings_are_idempotent_by_device_and_time(subjects, users, on_commit):
    first, created = on_commit(_reading, users["platform"], subjects["s1"], 1)
    again, created_again = on_commit(_reading, users["platform"], subjects["s1"], 1)
    assert created and not created_again and first.pk == again.pk
    assert SensorReading.objects.count() == 1 and CreditFact.objects.count() == 1
    with pytest.raises(Conflict):
        _reading(users["platform"], subjects["s1"], 1, value=9.9)
    with pytest.raises(Forbidden):
        _reading(users["leader_s1"], subjects["s1"], 1, device="X")


def test_post_facts_in_bulk_all_or_nothing_and_idempotent(subjects, on_commit):
    items = [{"subject": subjects["s1"], "kind": FactKind.VIOLATION, **REF, "source_pk": n, "points": 10}
             for n in range(3)]
    assert on_commit(facts.post_facts, items) == 3
    assert CreditScore.objects.get(subject=subjects["s1"]).color == "red"
    assert facts.post_facts(items) == 0  # the same references again: nothing new
    bad = [*items, {"subject": subjects["s2"], "kind": "gossip", **REF, "source_pk": 9},
           {"subject": 987654, "kind": FactKind.COMPLAINT, **REF, "source_pk": 10}]
    with pytest.raises(ValidationFailed) as exc:
        facts.post_facts(bad)
    assert "3.kind" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        facts.post_facts([bad[-1]])
    assert "subject" in exc.value.fields
    assert CreditFact.objects.count() == 3
    assert AuditLog.objects.filter(action="credit.facts_posted").count() == 1


def test_a_policy_keeps_its_category(users, categories):
    default = CreditPolicy.objects.get(category__isnull=True, is_current=True)
    with pytest.raises(ValidationFailed) as exc:
        policies.update_policy(users["bureau"], default, category=categories["site"], red_from=30)
    assert exc.value.fields == {"category": ["不能修改规则所属类别。"]}
    assert CreditPolicy.objects.count() == 1
    assert policies.update_policy(users["bureau"], default, category=None, red_from=30).version == default.version + 1
