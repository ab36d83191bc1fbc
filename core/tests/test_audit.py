"""The audit trail: every service write leaves a record (actor, action, old→new, IP); records are
append-only; bureau staff read them at /audit/."""
from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.utils import timezone

from core import audit
from core.context import current_ip
from core.models import AuditLog
from grids import accounts, importers, services
from grids.models import Area, Subject

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db


def new_logs(since_id):
    return list(AuditLog.objects.filter(id__gt=since_id).order_by("id"))


def last_id():
    return AuditLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_every_service_write_is_audited(users, district, categories, officers):
    bureau = users["bureau"]
    mark = last_id()
    token = current_ip.set("192.168.7.7")
    try:
        area = services.create_area(bureau, code="S1G1M9", name="微网格9", kind="micro_grid", parent=district["S1G1"])
        services.update_area(bureau, area, name="微网格九")
        subject = services.create_subject(bureau, name="店", category=categories["restaurant"], lat=30.2, lng=120.2)
        services.update_subject(bureau, subject, name="新店")
        services.record_position(users["officer_s1"], officers["s1"], lat=30.2, lng=120.2, recorded_at=timezone.now())
        services.send_notice(bureau, district["S1"], title="t", body="b")
        accounts.add_user(bureau, username="new", role="officer", area_codes=["S1"])
        csv = "name,category_code,lat,lng\n导入店,FOOD-R,30.3,120.3\n".encode()
        importers.import_subjects(bureau, csv, "s.csv")
    finally:
        current_ip.reset(token)
    logs = new_logs(mark)
    assert [log.action for log in logs] == [
        "area.created", "area.updated", "subject.created", "subject.updated", "officer.moved", "notice.sent",
        "user.created", "subject.created",
    ]
    assert all(log.ip == "192.168.7.7" for log in logs)
    assert [log.actor_label for log in logs] == ["bureau"] * 4 + ["officer_s1"] + ["bureau"] * 3
    assert logs[1].changes == {"name": ["微网格9", "微网格九"]}
    assert logs[3].changes == {"name": ["店", "新店"]}
    assert logs[3].object_type == "grids.subject" and logs[3].object_id == str(subject.pk)
    assert logs[3].object_repr == "新店"


def test_audit_through_the_api_carries_remote_addr(users, api, district, categories):
    r = api(users["bureau"]).post("/api/v1/subjects/", {"name": "店", "category": "FOOD-R", "lat": 30.2, "lng": 120.2},
                                  format="json", REMOTE_ADDR="203.0.113.5")
    assert r.status_code == 201
    log = AuditLog.objects.get(action="subject.created", object_id=str(r.json()["id"]))
    assert (log.actor, log.ip) == (users["bureau"], "203.0.113.5")
    assert current_ip.get() is None  # the request's address does not leak to later work


def test_records_cannot_be_changed_or_deleted(district):
    log = AuditLog.objects.first()
    log.action = "tampered"
    with pytest.raises(PermissionError):
        log.save()
    with pytest.raises(PermissionError):
        log.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=log.pk).update(action="tampered")
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=log.pk).delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.filter(action="tampered").count() == 0


def test_plain_values_and_diff():
    assert audit._plain(Decimal("1.50")) == "1.50"
    assert audit._plain(date(2026, 1, 2)) == "2026-01-02"
    assert audit._plain(datetime(2026, 1, 2, 3, 4, tzinfo=dt_timezone.utc)) == "2026-01-02T03:04:00+00:00"
    assert audit._plain((1, date(2026, 1, 2))) == [1, "2026-01-02"]
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {"b": [2, 3]}


def test_record_without_object_and_anonymous_actor(db):
    from django.contrib.auth.models import AnonymousUser

    log = audit.record(AnonymousUser(), "import.ran", None, object_type="x", object_id="*", object_repr="r" * 300,
                       changes={"when": [None, date(2026, 1, 1)]})
    assert log.actor is None and log.actor_label == "" and len(log.object_repr) == 255
    assert log.changes == {"when": [None, "2026-01-01"]}
    system = audit.record(None, "system.did", None)
    assert system.actor_label == "system" and system.object_id == ""


def test_snapshot_of_relations(district, categories):
    subject = services.insert_subject(None, name="店", category=categories["restaurant"],
                                      lat=30.2, lng=120.2, tags=["b", "a"])
    snap = audit.snapshot(subject, ["grid", "category", "tags", "lat"])
    assert snap["grid"] == district["S1G1"].pk and snap["category"] == categories["restaurant"].pk
    assert len(snap["tags"]) == 2 and snap["tags"] == sorted(snap["tags"]) and snap["lat"] == 30.2


# --- The page ---------------------------------------------------------------------------------

def test_audit_page_for_bureau_staff(client, users, district):
    services.update_area(users["bureau"], district["S1"], name="改名街道")
    client.force_login(users["bureau"])
    r = client.get("/audit/")
    assert r.status_code == 200
    html = r.content.decode()
    rows = html[html.index("<tbody>"):html.index("</tbody>")]
    assert "修改区域" in rows and "街道1" in rows and "改名街道" in rows and "area.updated" not in rows
    r = client.get("/audit/", {"action": "area.updated"})
    assert len(r.context["page"].object_list) == 1
    r = client.get("/audit/", {"actor": users["dispatcher"].pk})
    assert len(r.context["page"].object_list) == 0
    assert client.get("/audit/", {"page": "999"}).status_code == 200


@pytest.mark.parametrize("who", ["dispatcher", "leader_s1", "officer_s1", "platform"])
def test_audit_page_refused_to_others(client, users, who):
    client.force_login(users[who])
    assert client.get("/audit/").status_code == 403


def test_audit_page_needs_login(client, db):
    r = client.get("/audit/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_admin_is_read_only_for_audit(client, users, district, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="long-enough-1")
    client.force_login(root)
    log = AuditLog.objects.first()
    assert client.get("/admin/core/auditlog/").status_code == 200
    assert client.get(f"/admin/core/auditlog/{log.pk}/change/").status_code == 200
    assert client.get("/admin/core/auditlog/add/").status_code == 403
    assert client.post(f"/admin/core/auditlog/{log.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditLog.objects.filter(pk=log.pk).exists()


def test_area_and_subject_rows_unchanged_by_a_refused_write(users, district):
    """A write refused half-way leaves neither the change nor an audit record."""
    mark = last_id()
    with pytest.raises(Exception):
        services.update_area(users["bureau"], district["S1G1"], boundary={"type": "Polygon", "coordinates": []})
    assert new_logs(mark) == [] and Area.objects.get(code="S1G1").boundary == district["S1G1"].boundary
    assert Subject.objects.count() == 0


def test_audit_page_shortens_long_values(client, users, district):
    import math

    ring = [[120.25 + 0.2 * math.cos(i * math.pi / 30), 30.25 + 0.2 * math.sin(i * math.pi / 30)] for i in range(60)]
    circle = {"type": "Polygon", "coordinates": [ring + [ring[0]]]}
    services.update_area(users["bureau"], district["S1G1M1"], boundary=circle)
    client.force_login(users["bureau"])
    html = client.get("/audit/", {"action": "area.updated"}).content.decode()
    row = html[html.index("<tbody>"):html.index("</tbody>")]
    assert "边界" in row and "…" in row and len(row) < 2500, row


def test_record_many_writes_the_rows_record_writes(district):
    """The batch form (the SLA sweep's): the same row shape as `record`, written without instances."""
    areas = [district["S1"], district["S2"]]
    token = current_ip.set("10.0.0.9")
    try:
        mark = last_id()
        one = audit.record(None, "area.checked", areas[0], changes={"n": [None, 1]})
        at = timezone.now()
        assert audit.record_many(None, "area.checked", [(a, {"n": [None, 1]}) for a in areas], at=at) == 2
    finally:
        current_ip.reset(token)
    many = new_logs(one.pk)
    assert [log.object_id for log in many] == [str(a.pk) for a in areas] and new_logs(mark)[0] == one
    for log in many:
        assert log.at == at
        for field in ("actor_id", "actor_label", "action", "object_type", "changes", "ip"):
            assert getattr(log, field) == getattr(one, field), field
    assert [log.object_repr for log in many] == [str(a) for a in areas]
