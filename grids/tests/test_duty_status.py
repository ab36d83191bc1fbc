"""grids.services.set_duty_status: grids owns the officer's duty status, its audit record and its signal
(the command center moves it when a task starts or ends, and says why)."""
import pytest

from core.models import AuditLog
from grids import services, signals
from grids.models import Officer

pytestmark = pytest.mark.django_db


def test_moves_audits_and_announces_on_commit(officers, users, django_capture_on_commit_callbacks):
    heard = []

    def listen(sender, **kwargs):
        heard.append(kwargs)

    signals.officer_moved.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=False) as pending:
            assert services.set_duty_status(users["dispatcher"], officers["s1"].pk, "en_route",
                                            why={"event": 7, "cause": "accept"})
            assert heard == []  # not before the commit
        for callback in pending:
            callback()
    finally:
        signals.officer_moved.disconnect(listen)
    assert Officer.objects.get(pk=officers["s1"].pk).duty_status == "en_route"
    assert heard == [{"signal": signals.officer_moved, "officer_id": officers["s1"].pk, "duty_status": "en_route"}]
    record = AuditLog.objects.get(action="officer.duty_status")
    assert record.actor_label == "dispatcher" and record.object_id == str(officers["s1"].pk)
    assert record.changes == {"duty_status": ["off_duty", "en_route"], "event": [None, 7], "cause": [None, "accept"]}


def test_no_change_writes_nothing(officers, django_capture_on_commit_callbacks):
    Officer.objects.filter(pk=officers["s1"].pk).update(duty_status="available")
    with django_capture_on_commit_callbacks(execute=False) as pending:
        assert services.set_duty_status(None, officers["s1"].pk, "available") is False
    assert pending == [] and not AuditLog.objects.filter(action="officer.duty_status").exists()
