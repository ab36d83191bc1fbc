"""Overrides set by hand beside the computed colour (credit.services.overrides)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import Forbidden, NotFound, ValidationFailed
from credit.models import CreditHistory, CreditOverride, CreditScore
from credit.services import overrides, rescoring

pytestmark = pytest.mark.django_db


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
