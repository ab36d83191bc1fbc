"""Catalog versions: drafts, atomic publishing, old versions kept readable, the diff."""
import pytest
from django.db import IntegrityError, transaction

from core.exceptions import Conflict, Forbidden, Unprocessable
from core.models import AuditLog
from grids.testing import *  # noqa: F403
from enforcement import selectors
from enforcement.services import catalog as catalog_services
from enforcement.choices import VersionStatus
from enforcement.models import CatalogVersion, Matter
from enforcement.testing import matter

pytestmark = pytest.mark.django_db


def test_first_publish_records_who_and_when(catalog, users):
    assert catalog.status == VersionStatus.PUBLISHED and catalog.published_at is not None
    assert selectors.current_version() == catalog
    log = AuditLog.objects.get(action="catalog.published", object_id=str(catalog.pk))
    assert log.actor_label == "system" and log.changes["status"] == ["draft", "published"]


def test_draft_is_a_copy_and_publishing_archives_the_old_version(catalog, users):
    bureau = users["bureau"]
    draft = catalog_services.open_draft(bureau, note="修订")
    assert draft.number == 2 and draft.based_on == catalog
    assert Matter.objects.filter(version=draft).count() == 5
    assert selectors.delegations(draft).count() == 3
    assert catalog_services.open_draft(bureau) == draft  # the one open draft
    catalog_services.update_matter(bureau, matter(draft, "SR-001"), name="对占道经营的行政处罚", non_site=False)

    published = catalog_services.publish_draft(bureau)
    catalog.refresh_from_db()
    assert published.status == VersionStatus.PUBLISHED and published.published_by == bureau
    assert catalog.status == VersionStatus.ARCHIVED and catalog.archived_at is not None
    assert CatalogVersion.objects.filter(status=VersionStatus.PUBLISHED).count() == 1
    # The archived version still holds the matter as it was (a case decided under V1 keeps it).
    old = matter(catalog, "SR-001")
    assert old.name == "对擅自占用城市道路从事经营活动的行政处罚" and old.non_site is True
    assert selectors.matters().get(code="SR-001").name == "对占道经营的行政处罚"
    log = AuditLog.objects.get(action="catalog.published", object_id=str(published.pk))
    assert log.actor == bureau and log.changes["replaces"] == [None, 1]
    assert AuditLog.objects.filter(action="matter.updated", object_id=str(matter(draft, "SR-001").pk)).exists()


def test_publishing_is_all_or_nothing(catalog, users, monkeypatch):
    draft = catalog_services.open_draft(users["bureau"])
    from core import audit

    real = audit.record

    def failing(actor, action, *args, **kwargs):
        if action == "catalog.published":
            raise RuntimeError("disk full")
        return real(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        catalog_services.publish_draft(users["bureau"])
    catalog.refresh_from_db()
    draft.refresh_from_db()
    assert catalog.status == VersionStatus.PUBLISHED and draft.status == VersionStatus.DRAFT
    assert not AuditLog.objects.filter(action="catalog.archived").exists()


def test_the_database_allows_one_published_and_one_draft(catalog):
    with pytest.raises(IntegrityError), transaction.atomic():
        CatalogVersion.objects.create(number=9, status=VersionStatus.PUBLISHED, published_at=catalog.published_at)
    catalog_services.open_draft(None)
    with pytest.raises(IntegrityError), transaction.atomic():
        CatalogVersion.objects.create(number=10, status=VersionStatus.DRAFT)


def test_published_rows_cannot_be_edited(catalog, users):
    with pytest.raises(Conflict):
        catalog_services.update_matter(users["bureau"], matter(catalog, "SR-001"), name="改名")


def test_matter_code_is_stable(catalog, users):
    draft = catalog_services.open_draft(users["bureau"])
    from core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        catalog_services.update_matter(users["bureau"], matter(draft, "SR-001"), code="SR-999")
    assert "code" in exc.value.fields


def test_nothing_to_publish(catalog, users):
    with pytest.raises(Conflict):
        catalog_services.publish_draft(users["bureau"])


def test_publish_refuses_a_draft_that_loses_a_routed_matter(catalog, users):
    draft = catalog_services.open_draft(users["bureau"])
    Matter.objects.filter(version=draft, code="XF-001").delete()  # e.g. removed by hand in the database
    with pytest.raises(Unprocessable) as exc:
        catalog_services.publish_draft(users["bureau"])
    assert "XF-001" in exc.value.fields["version"][0]


@pytest.mark.parametrize("who", ["dispatcher", "leader_s1", "officer_s1", "platform", "bureau_s1"])
def test_only_district_bureau_staff_edit_the_catalog(catalog, users, who):
    with pytest.raises(Forbidden):
        catalog_services.open_draft(users[who])
    with pytest.raises(Forbidden):
        catalog_services.publish_draft(users[who])


def test_diff_lists_added_removed_and_changed(catalog, users, district):
    bureau = users["bureau"]
    draft = catalog_services.open_draft(bureau)
    catalog_services.create_matter(bureau, code="NEW-001", name="新事项", law="《新法》", department="ZHZF",
                           kind="inspection", domain="市容环卫")
    catalog_services.update_matter(bureau, matter(draft, "GH-001"), article="第二条", major_decision=False)
    Matter.objects.filter(version=draft, code="SC-002").delete()
    catalog_services.delegate(bureau, matter_code="SR-001", street_code="S2", effective_from=catalog.published_at.date().replace(year=2027, month=1, day=1))
    from enforcement.testing import held_delegation

    catalog_services.update_delegation(bureau, held_delegation(draft, "SC-001", district["S1"]),
                               effective_to=catalog.published_at.date().replace(year=2027, month=12, day=31))
    d = selectors.diff_versions(catalog, draft)
    assert [m["code"] for m in d["matters"]["added"]] == ["NEW-001"]
    assert [m["code"] for m in d["matters"]["removed"]] == ["SC-002"]
    assert d["matters"]["changed"] == [{"code": "GH-001", "name": matter(draft, "GH-001").name,
                                        "changes": {"article": ["第一条", "第二条"], "major_decision": [True, False]}}]
    assert [(x["matter_code"], x["street_code"], x["effective_from"]) for x in d["delegations"]["added"]] == [
        ("SR-001", "S2", "2027-01-01")]
    assert d["delegations"]["changed"][0]["changes"] == {"effective_to": [None, "2027-12-31"]}
    assert d["delegations"]["removed"] == []
