"""Credit policies: versions, categories and their fall-back, checks and who edits (credit.services.policies)."""
import pytest

from core.exceptions import Conflict, Forbidden, ValidationFailed
from core.models import AuditLog
from credit.choices import FactKind
from credit.models import CreditHistory, CreditPolicy, CreditScore
from credit.services import facts, policies

pytestmark = pytest.mark.django_db

REF = {"source_app": "enforcement", "source_model": "case"}


def post(subject, kind=FactKind.VIOLATION, pk=1, **kw):
    return facts.post_fact(subject, kind, **REF, source_pk=pk, **kw)


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


def test_a_policy_keeps_its_category(users, categories):
    default = CreditPolicy.objects.get(category__isnull=True, is_current=True)
    with pytest.raises(ValidationFailed) as exc:
        policies.update_policy(users["bureau"], default, category=categories["site"], red_from=30)
    assert exc.value.fields == {"category": ["不能修改规则所属类别。"]}
    assert CreditPolicy.objects.count() == 1
    assert policies.update_policy(users["bureau"], default, category=None, red_from=30).version == default.version + 1
