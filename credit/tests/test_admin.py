"""Admin pages: a policy saved in the admin is a new version through the service; overrides go through
the service; the ledger is read-only."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditLog
from credit.choices import FactKind
from credit.models import CreditFact, CreditOverride, CreditPolicy
from credit.services import facts, policies

pytestmark = pytest.mark.django_db


def _form(policy, **changes):
    data = {f: getattr(policy, f) for f in policies.POLICY_FIELDS}
    data.update(changes)
    for f in ("base_points", "weights", "sensor_rules"):
        data[f] = json.dumps(data[f])
    data["half_life_days"] = data["half_life_days"] or ""
    return data


def test_policy_admin_saves_a_new_version(logged_in, eager):
    c = logged_in("bureau")
    policy = CreditPolicy.objects.get(category__isnull=True, is_current=True)
    url = f"/admin/credit/creditpolicy/{policy.pk}/change/"
    assert c.get(url).status_code == 200
    bad = c.post(url, _form(policy, yellow_from=30, red_from=20))
    assert bad.status_code == 200 and "红色起始分必须高于黄色起始分" in bad.content.decode()
    ok = c.post(url, _form(policy, red_from=35, note="放宽红色"))
    assert ok.status_code == 302, ok.content.decode()[:2000]
    new = CreditPolicy.objects.get(category__isnull=True, is_current=True)
    assert new.version == policy.version + 1 and new.red_from == 35
    assert CreditPolicy.objects.get(pk=policy.pk).red_from == 28  # the old version is kept as it was
    assert AuditLog.objects.filter(action="credit.policy_updated", object_id=str(new.pk)).exists()
    # Old versions are read-only; street-bound bureau staff may not edit policies.
    assert c.post(url, _form(policy, red_from=50)).status_code == 403
    assert logged_in("bureau_s1").post(f"/admin/credit/creditpolicy/{new.pk}/change/",
                                   _form(new, red_from=50)).status_code == 403
    assert CreditPolicy.objects.get(pk=new.pk).is_current


def test_override_admin_goes_through_the_service(logged_in, subjects):
    c = logged_in("bureau_s1")
    url = "/admin/credit/creditoverride/add/"
    later = timezone.localtime() + timedelta(days=3)
    form = {"subject": subjects["s1"].pk, "color": "red", "reason": "重点整治",
            "expires_at_0": later.strftime("%Y-%m-%d"), "expires_at_1": later.strftime("%H:%M:%S")}
    r = c.post(url, form)
    assert r.status_code == 302, r.content.decode()[:3000]
    override = CreditOverride.objects.get()
    assert override.created_by.username == "bureau_s1"
    assert AuditLog.objects.filter(action="credit.override_set").exists()
    r = c.post(url, {**form, "subject": subjects["s2"].pk})  # another street's subject
    assert r.status_code == 200 and CreditOverride.objects.count() == 1


def test_ledger_admin_is_read_only(logged_in, subjects):
    fact, _ = facts.post_fact(subjects["s1"], FactKind.COMPLAINT, source_app="cc", source_model="event", source_pk=1)
    c = logged_in("bureau")
    assert c.get("/admin/credit/creditfact/").status_code == 200
    assert c.get(f"/admin/credit/creditfact/{fact.pk}/change/").status_code == 200
    assert c.get("/admin/credit/creditfact/add/").status_code == 403
    assert c.post(f"/admin/credit/creditfact/{fact.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CreditFact.objects.filter(pk=fact.pk).exists()
    assert logged_in("leader_s1").get("/admin/credit/creditfact/").status_code in (302, 403)
