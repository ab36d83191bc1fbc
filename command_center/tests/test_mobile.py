"""The officers' phone page /m/ through Django's test client: who gets it, what it lists, what it offers."""
import pytest
from django.utils.html import escape

from command_center.services import transitions
from command_center.testing import S2_POINT
from core import roles
from grids import accounts

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client):
    r = client.get("/m/")
    assert r.status_code == 302 and r["Location"].startswith("/login/?next=/m/")


@pytest.mark.parametrize("who", ["dispatcher", "leader_s1", "bureau", "platform"])
def test_other_roles_are_refused(client, users, officers, who):
    client.force_login(users[who])
    assert client.get("/m/").status_code == 403


def test_officer_account_without_officer_record_is_refused(client, district):
    user, _ = accounts.add_user(None, username="o_norecord", role=roles.OFFICER, area_codes=["S1"], password="pass-word-1")
    client.force_login(user)
    assert client.get("/m/").status_code == 403


def test_officer_sees_own_live_tasks_only(client, users, officers, report):
    mine = transitions.dispatch(users["dispatcher"], report(description="我的任务：占道经营"), officers["s1"])
    signed = transitions.accept(users["officer_s1"], transitions.dispatch(users["dispatcher"], report(), officers["s1"]))
    on_site = transitions.arrive(users["officer_s1"], transitions.accept(
        users["officer_s1"], transitions.dispatch(users["dispatcher"], report(), officers["s1"])))
    undispatched = report(description="尚未派遣的事件")
    other = transitions.dispatch(users["dispatcher"], report(point=S2_POINT, description="别人的任务"), officers["s2"])
    resolved = transitions.resolve(users["officer_s1"], transitions.arrive(users["officer_s1"], transitions.accept(
        users["officer_s1"], transitions.dispatch(users["dispatcher"], report(), officers["s1"]))), "已处理")
    client.force_login(users["officer_s1"])
    r = client.get("/m/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'name="viewport"' in html and "js/mobile.js" in html and "css/mobile.css" in html
    shown = {t.pk for t in r.context["tasks"]}
    assert shown == {mine.pk, signed.pk, on_site.pk}
    for hidden in (undispatched, other, resolved):
        assert f'id="task-{hidden.pk}"' not in html
    assert "我的任务：占道经营" in html and "别人的任务" not in html
    # Each state offers its own next step; every task shows its next deadline for the countdown.
    assert 'data-action="accept"' in html and 'data-action="decline"' in html
    assert 'data-action="arrive"' in html and 'data-action="resolve"' in html
    assert html.count("data-due=") == 3
    assert f'data-etag="{escape(mine.etag)}"' in html
    # Chinese by default.
    assert "签收" in html and "提交处置结果" in html


def test_actions_from_the_page_meet_the_same_refusals(client, users, officers, report):
    """The page posts to the REST API with the session: another officer's task, or a step out of
    order, is refused there (and the page shows the refusal's message)."""
    event = transitions.dispatch(users["dispatcher"], report(), officers["s1"])
    other = transitions.dispatch(users["dispatcher"], report(point=S2_POINT), officers["s2"])
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["officer_s1"])
    strict.get("/m/")
    token = strict.cookies["csrftoken"].value
    post = lambda url, **kw: strict.post(url, content_type="application/json", HTTP_X_CSRFTOKEN=token, **kw)  # noqa: E731
    # Without the CSRF token a session POST is refused.
    assert strict.post(f"/api/v1/events/{event.pk}/accept/", content_type="application/json").status_code == 403
    assert post(f"/api/v1/events/{other.pk}/accept/").status_code == 404          # another street's event
    r = post(f"/api/v1/events/{event.pk}/arrive/")                                 # no If-Match: 428
    assert r.status_code == 428 and "ETag" in r.json()["detail"]
    r = post(f"/api/v1/events/{event.pk}/arrive/", HTTP_IF_MATCH=event.etag)        # not signed for yet
    assert r.status_code == 409 and r.json()["detail"]
    assert post(f"/api/v1/events/{event.pk}/accept/", HTTP_IF_MATCH=event.etag).status_code == 200
    r = post(f"/api/v1/events/{event.pk}/arrive/", HTTP_IF_MATCH=event.etag)        # a stale version
    assert r.status_code == 412


def test_position_url_on_the_page_is_the_officers_own(client, users, officers):
    client.force_login(users["officer_s1"])
    config = client.get("/m/").context["config"]
    assert config["positionUrl"] == f"/api/v1/officers/{officers['s1'].pk}/position/"
    assert config["officer"] == officers["s1"].pk
