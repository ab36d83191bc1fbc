"""manage.py add_user and compilemessages_if_needed."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from grids.models import AreaMembership

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_add_user_creates_then_updates(district):
    out = run("add_user", "wang", "--role", "team_leader", "--area", "S1", "--area", "S2", "--password", "long-enough-1",
              "--name", "王队")
    assert out.strip() == "created wang role=team_leader areas=S1,S2"
    user = get_user_model().objects.get(username="wang")
    assert user.check_password("long-enough-1") and user.first_name == "王队"
    assert sorted(AreaMembership.objects.filter(user=user).values_list("area__code", flat=True)) == ["S1", "S2"]
    out = run("add_user", "wang", "--role", "bureau_staff", "--area", "D")
    assert out.startswith("updated wang")
    user.refresh_from_db()
    assert user.is_staff and list(user.groups.values_list("name", flat=True)) == ["bureau_staff"]
    assert list(AreaMembership.objects.filter(user=user).values_list("area__code", flat=True)) == ["D"]


def test_add_user_bad_role_or_area(district):
    with pytest.raises(CommandError):
        run("add_user", "x", "--role", "king", "--area", "S1")  # argparse choices
    with pytest.raises(CommandError) as e:
        run("add_user", "x", "--role", "officer", "--area", "NOPE")
    assert "NOPE" in str(e.value)
    with pytest.raises(CommandError):
        run("add_user", "x", "--role", "officer")  # --area is required
    with pytest.raises(CommandError) as e:
        run("add_user", "x", "--role", "officer", "--area", "S1", "--password", "short")
    assert "password" in str(e.value)
    assert not get_user_model().objects.filter(username="x").exists()


def test_added_user_can_get_a_token(district, client):
    run("add_user", "svc", "--role", "api_client", "--area", "D", "--password", "long-enough-1")
    r = client.post("/api/v1/auth/token/", {"username": "svc", "password": "long-enough-1"})
    assert r.status_code == 200 and r.json()["token"]


def test_compilemessages_if_needed_is_quiet_without_changes(db):
    call_command("compilemessages_if_needed", stdout=StringIO(), stderr=StringIO())
