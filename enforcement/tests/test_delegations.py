"""Delegations by date, revocation, tier templates."""
from datetime import date, timedelta

import pytest
from django.utils import timezone

from core.exceptions import Conflict, ValidationFailed
from core.models import AuditLog
from grids.testing import *  # noqa: F403
from enforcement import selectors
from enforcement.services import catalog as catalog_services
from enforcement.models import CatalogVersion, Delegation, TierTemplate
from enforcement.testing import D0, D1, D2, held_delegation

pytestmark = pytest.mark.django_db


def codes(qs):
    return sorted(m.code for m in qs)


def test_matters_held_by_date(catalog, district):
    s1, s2 = district["S1"], district["S2"]
    assert codes(selectors.matters_held(s1, D0 - timedelta(days=1))) == []
    assert codes(selectors.matters_held(s1, D0)) == ["SC-001", "SR-001"]
    assert codes(selectors.matters_held(s2, D1 - timedelta(days=1))) == []
    assert codes(selectors.matters_held(s2, D1)) == ["SR-001"]
    assert codes(selectors.matters_held(s2, D2)) == ["SR-001"]          # the end date is inclusive
    assert codes(selectors.matters_held(s2, D2 + timedelta(days=1))) == []


def test_streets_holding(catalog, district):
    assert [s.code for s in selectors.streets_holding("SR-001", D0)] == ["S1"]
    assert [s.code for s in selectors.streets_holding("SR-001", D1)] == ["S1", "S2"]
    assert [s.code for s in selectors.streets_holding("GH-001", D1)] == []


def test_revocation_takes_effect_at_once_and_keeps_the_row(catalog, district, users):
    d = held_delegation(catalog, "SR-001", district["S1"])
    draft = catalog_services.open_draft(users["bureau"])
    today = timezone.localdate()
    catalog_services.revoke_delegation(users["bureau"], d, reason="承接能力不足")
    d.refresh_from_db()
    assert d.revoked_by == users["bureau"] and d.revoke_reason == "承接能力不足"
    assert codes(selectors.matters_held(district["S1"], today)) == ["SC-001"]
    assert "SR-001" in codes(selectors.matters_held(district["S1"], today - timedelta(days=1)))
    # The open draft's copy is revoked too, so publishing the draft does not bring it back.
    assert held_delegation(draft, "SR-001", district["S1"]).revoked_at is not None
    catalog.refresh_from_db()
    assert catalog.revision == 1
    log = AuditLog.objects.get(action="delegation.revoked", object_id=str(d.pk))
    assert log.changes["revoke_reason"] == ["", "承接能力不足"]
    with pytest.raises(Conflict):
        catalog_services.revoke_delegation(users["bureau"], d, reason="再次撤销")


def test_revocation_needs_a_reason(catalog, district, users):
    with pytest.raises(ValidationFailed) as exc:
        catalog_services.revoke_delegation(users["bureau"], held_delegation(catalog, "SR-001", district["S1"]), reason="  ")
    assert "reason" in exc.value.fields


def test_archived_delegations_cannot_be_revoked(catalog, district, users):
    catalog_services.open_draft(users["bureau"])
    catalog_services.publish_draft(users["bureau"])
    with pytest.raises(Conflict):
        catalog_services.revoke_delegation(users["bureau"], held_delegation(catalog, "SR-001", district["S1"]), reason="太晚了")


def test_new_delegations_wait_for_publishing(catalog, district, users):
    catalog_services.delegate(users["bureau"], matter_code="GH-001", street_code="S2", effective_from=D0)
    assert "GH-001" not in codes(selectors.matters_held(district["S2"], D1))
    catalog_services.publish_draft(users["bureau"])
    assert "GH-001" in codes(selectors.matters_held(district["S2"], D1))


@pytest.mark.parametrize("kwargs,field", [
    ({"matter_code": "NOPE"}, "matter"),
    ({"street_code": "S1G1"}, "street"),
    ({"effective_to": D0 - timedelta(days=1)}, "effective_to"),
])
def test_delegate_validates(catalog, district, users, kwargs, field):
    args = {"matter_code": "GH-001", "street_code": "S1", "effective_from": D0, **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        catalog_services.delegate(users["bureau"], **args)
    assert field in exc.value.fields


def test_tier_template_applies_to_every_street_of_the_tier_once(catalog, district, users):
    bureau = users["bureau"]
    catalog_services.set_tier_template(bureau, tier="general", matter_codes=["GH-001", "SC-002", "SR-001"])
    start = date(2027, 1, 1)
    first = catalog_services.apply_tier_template(bureau, tier="general", effective_from=start)
    assert first["streets"] == 1 and first["created"] == 3 and first["unchanged"] == 0
    again = catalog_services.apply_tier_template(bureau, tier="general", effective_from=start)
    assert again["created"] == 0 and again["unchanged"] == 3
    draft = CatalogVersion.objects.get(status="draft")
    rows = Delegation.objects.filter(matter__version=draft, street=district["S2"], effective_from=start)
    assert sorted(r.matter.code for r in rows) == ["GH-001", "SC-002", "SR-001"]
    assert {r.tier for r in rows} == {"general"} and {r.source for r in rows} == {"template"}
    assert not Delegation.objects.filter(matter__version=draft, street=district["S1"], effective_from=start).exists()
    # An existing open-ended delegation covering the date counts as held.
    catalog_services.set_tier_template(bureau, tier="urban", matter_codes=["SR-001"])
    assert catalog_services.apply_tier_template(bureau, tier="urban", effective_from=start)["unchanged"] == 1


def test_tier_template_refuses_unknown_codes(catalog, users):
    with pytest.raises(ValidationFailed):
        catalog_services.set_tier_template(users["bureau"], tier="central", matter_codes=["SR-001", "NOPE"])
    assert not TierTemplate.objects.exists()
