"""POST /api/v1/events/{id}/file-case/: the command center hands the event's facts to cases.services."""
from core import roles
from grids import accounts
from grids.models import Officer


def _two_officers(teams, departments):
    out = []
    for i in (1, 2):
        user, _ = accounts.add_user(None, username=f"fc{i}", role=roles.OFFICER, area_codes=["S1"], password="pass-word-1")
        out.append(Officer.objects.create(user=user, name=f"队员{i}", badge_no=f"FC{i}", team=teams["S1"],
                                          home_department=departments["ZHZF"]))
    return out


def test_file_case_from_event(api, users, report, teams, departments):
    event = report()
    officers = _two_officers(teams, departments)
    body = {"handler_ids": [o.pk for o in officers], "person_name": "摊主甲"}
    url = f"/api/v1/events/{event.pk}/file-case/"
    assert api(users["leader_s2"]).post(url, body, format="json").status_code == 404
    assert api(users["leader_s1"]).post(url, {"handler_ids": [officers[0].pk], "person_name": "x"},
                                        format="json").status_code == 400
    r = api(users["leader_s1"]).post(url, body, format="json")
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["origin"] == "event" and case["origin_event_id"] == event.pk
    assert case["matter_codes"] == ["M-ZD"] and case["party_kind"] == "person"
    assert case["number"].startswith("S1-")
    assert api(users["leader_s1"]).post(url, body, format="json").status_code == 409
