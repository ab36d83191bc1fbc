"""/audit/ in words: each app's registered vocabulary (core.audit_words) turns an event's records into
who did what to which event, old → new in labels, photos as thumbnails; the filters are pickers."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.utils import timezone

from command_center.services import photos as photo_writes
from command_center.services import transitions
from command_center.testing import upload
from core import audit_words
from core.models import AuditLog


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff(client, users):
    users["bureau"].first_name = "赵局"
    users["bureau"].save(update_fields=["first_name"])
    client.force_login(users["bureau"])
    return client


def _rows(response) -> str:
    html = response.content.decode()
    return html[html.index("<tbody>"):html.index("</tbody>")]


@pytest.fixture
def dispatched(users, officers, report):
    users["dispatcher"].first_name = "王调度"
    users["dispatcher"].save(update_fields=["first_name"])
    event = report()
    transitions.dispatch(users["dispatcher"], event, officers["s1"], reason="就近")
    return event


@pytest.mark.django_db
def test_an_event_step_reads_as_who_did_what_with_labels(staff, dispatched):
    rows = _rows(staff.get("/audit/", {"object_type": "command_center.event", "object_id": dispatched.pk,
                                       "action": "event.dispatch"}))
    assert "王调度" in rows and "事件：派遣" in rows
    assert "待派遣 → 已派遣" in rows           # status codes as their labels
    assert "张三" in rows                      # the officer's id as the officer's name
    assert "当前处置人" in rows or "处置人" in rows or "执法队员" in rows  # the field's verbose name
    for code in ("event.dispatch", "command_center.event", ">new<", ">dispatched<", ">officer<"):
        assert code not in rows, code


@pytest.mark.django_db
def test_photos_show_as_thumbnails_not_a_code_dump(staff, users, officers, dispatched):
    photo = photo_writes.add_photos(users["dispatcher"], dispatched, [upload()])[0]
    rows = _rows(staff.get("/audit/", {"action": "event.photo_added"}))
    assert f"/api/v1/events/{dispatched.pk}/photos/{photo.pk}/" in rows and "<img" in rows
    assert "上报照片" in rows and "事件：上传照片" in rows
    assert photo.sha256 not in rows and "sha256" not in rows


@pytest.mark.django_db
def test_the_sla_breach_names_the_stage(staff, report):
    from command_center.services import sweep

    report()
    sweep.sweep_due_deadlines(now=timezone.now() + timedelta(days=2))
    rows = _rows(staff.get("/audit/", {"action": "event.sla_breached"}))
    assert "事件：环节超时" in rows and "<b>环节</b>：响应" in rows and "系统" in rows  # yellow: respond first
    assert "respond" not in rows


@pytest.mark.django_db
def test_the_filters_are_pickers_of_people_actions_objects_and_dates(staff, users, dispatched):
    page = staff.get("/audit/").content.decode()
    for name in ("actor", "action", "object_type"):
        assert f'<select name="{name}"' in page, name
    assert 'type="date" name="date_from"' in page and 'type="date" name="date_to"' in page
    assert f'<option value="{users["dispatcher"].pk}">王调度 (dispatcher)</option>' in page
    assert '<option value="event.dispatch">事件：派遣</option>' in page

    def count(**params):
        r = staff.get("/audit/", params)
        assert r.status_code == 200
        return len(r.context["page"].object_list)

    everything = AuditLog.objects.count()
    assert count() == everything
    assert count(actor=users["dispatcher"].pk) == AuditLog.objects.filter(actor=users["dispatcher"]).count() >= 1
    assert count(actor="system") == AuditLog.objects.filter(actor__isnull=True, actor_label="system").count()
    assert count(action="event.dispatch") == 1
    assert count(object_type="command_center.event", object_id=dispatched.pk) == 2  # intake and dispatch
    assert count(object_type="command_center.event", q=dispatched.problem_type_name or "占道") >= 0
    today = timezone.localdate()
    assert count(date_from=today.isoformat(), date_to=today.isoformat()) == everything
    assert count(date_from=(today + timedelta(days=1)).isoformat()) == 0
    assert count(date_to=(today - timedelta(days=1)).isoformat()) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("params,field", [
    ({"actor": "no-such-person"}, "actor"), ({"action": "drop.tables"}, "action"),
    ({"object_type": "x.y"}, "object_type"), ({"date_from": "2026-13-45"}, "date_from"),
    ({"date_from": "2026-12-05", "date_to": "2026-12-01"}, "date_to"), ({"object_id": "9" * 100}, "object_id"),
])
def test_a_bad_filter_is_a_form_error_not_a_500_nor_all_records(staff, dispatched, params, field):
    r = staff.get("/audit/", params)
    assert r.status_code == 200
    assert r.context["form"].errors.get(field)
    assert len(r.context["page"].object_list) == 0
    assert 'class="field-error"' in r.content.decode()


@pytest.mark.django_db
def test_the_page_reads_in_english(staff, dispatched):
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rows = _rows(staff.get("/audit/", {"action": "event.dispatch"}))
    assert "Event: Dispatch" in rows and "To dispatch → Dispatched" in rows and "<b>Current handler</b>: 张三" in rows
    assert not re.search(r"[\u4e00-\u9fff]{2,}", re.sub(r"王调度|张三|就近|赵局|占道经营", "", rows)), rows


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["dispatcher", "leader_s1", "officer_s1", "platform", "nobody"])
def test_other_roles_are_refused_even_with_filters(client, users, who, dispatched):
    client.force_login(users[who])
    assert client.get("/audit/", {"object_type": "command_center.event", "object_id": dispatched.pk}).status_code == 403


def test_every_action_code_the_code_base_records_has_words():
    """Each literal action code passed to core.audit (record, record_many, or a trace's audit_action) is
    registered by its app, and every event step (event.<action>) too."""
    codes = set()
    pattern = re.compile(r'(?:audit\.record(?:_many)?\([^,"\n]*,\s*|audit_action=)"([a-z_]+\.[a-z_]+)"')
    ours = [a for a in django_apps.get_app_configs() if Path(a.path).is_relative_to(Path(settings.BASE_DIR))]
    assert {"core", "grids", "credit", "enforcement", "command_center"} <= {a.name for a in ours}
    for app in ours:
        for path in Path(app.path).rglob("*.py"):
            if "tests" not in path.parts and "migrations" not in path.parts:
                codes.update(pattern.findall(path.read_text()))
    codes.update({"auth.login_failed", "auth.login_refused", "auth.locked_out"})
    from command_center.choices import Action
    codes.update(f"event.{a}" for a in Action.values)
    missing = sorted(c for c in codes if audit_words.action_label(c) == c)
    assert len(codes) > 50 and not missing, missing


@pytest.mark.django_db
def test_the_page_reads_names_in_a_fixed_number_of_queries(staff, users, officers, report, django_assert_max_num_queries):
    """Names of referenced rows are looked up once per model for the page, not per record."""
    for i in range(8):
        transitions.dispatch(users["dispatcher"], report(description=f"占道{i}"), officers["s1"], reason="就近")
    with django_assert_max_num_queries(14):  # 13 + the header's colour appeals count
        r = staff.get("/audit/", {"object_type": "command_center.event"})
    assert len(r.context["page"].object_list) == 16 and _rows(r).count("张三") == 8


@pytest.mark.django_db
def test_a_failed_sign_in_reads_in_words(staff, users):
    from django.contrib.auth.models import AnonymousUser

    from core import audit

    audit.record(AnonymousUser(), "auth.login_failed", object_type="auth.user", object_id=users["dispatcher"].pk,
                 object_repr="dispatcher", changes={"path": [None, "/login/"], "failures": [None, 2]})
    rows = _rows(staff.get("/audit/", {"action": "auth.login_failed"}))
    assert "匿名访问者" in rows and "登录失败" in rows and "账号" in rows
    assert "<b>登录页面</b>：/login/" in rows and "<b>连续失败次数</b>：2" in rows
