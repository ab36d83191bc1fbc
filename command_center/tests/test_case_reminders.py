"""Cases due soon or overdue reach their street's team leader: cases.signals.deadlines_due → a push."""
from datetime import date, timedelta

from django.utils import timezone

from cases import services as case_services
from command_center import push
from core import roles
from grids import accounts
from grids.models import Officer


def test_deadline_check_pushes_a_reminder_to_the_street(users, catalog, teams, departments, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    officers = []
    for i in (1, 2):
        user, _ = accounts.add_user(None, username=f"rm{i}", role=roles.OFFICER, area_codes=["S1"], password="pass-word-1")
        officers.append(Officer.objects.create(user=user, name=f"队员{i}", badge_no=f"RM{i}", team=teams["S1"],
                                               home_department=departments["ZHZF"]))
    case = case_services.file_case(users["leader_s1"], party_kind="person", person_name="摊主", street=teams["S1"].street,
                                   facts="占道", facts_on=date.today(), matter_codes=["M-ZD"],
                                   handler_ids=[o.pk for o in officers])
    sent = []
    monkeypatch.setattr(push, "publish_many", lambda kind, changes, once=None: sent.append((kind, changes)) or [])
    with django_capture_on_commit_callbacks(execute=True):
        out = case_services.check_deadlines(now=timezone.now() + timedelta(days=8))
    assert out["overdue"] == 1 and out["reminded"] == 1
    (kind, changes), = sent
    assert kind == push.CASE_DEADLINE
    street_id, path, body = changes[0]
    assert street_id == case.street_id and body["case"]["number"] == case.number and body["case"]["overdue"]
    # once: the next check does not remind again
    with django_capture_on_commit_callbacks(execute=True):
        assert case_services.check_deadlines(now=timezone.now() + timedelta(days=9))["reminded"] == 0
