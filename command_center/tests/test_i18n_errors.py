"""Every message the services, selectors and validators raise or write reads in English for an English
API client (Accept-Language: en) and in Chinese by default.

Walk 1 reads the modules' source: every string literal with Chinese in it is marked for translation
(the few that are data, not messages, are listed), and every marked msgid has an English translation in
the compiled catalog. Walk 2 sends real requests that trigger one error of each kind (field errors,
403, 404, 409, 412, 422, Open311) and compares both languages."""
import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from rest_framework.authtoken.models import Token

from command_center.models import Event
from command_center.testing import S1_POINT

MODULES = [
    "command_center/services/base.py", "command_center/services/escalation.py", "command_center/services/intake.py",
    "command_center/services/photos.py", "command_center/services/policies.py", "command_center/services/sweep.py",
    "command_center/services/transitions.py", "command_center/open311/selectors.py", "command_center/open311/views.py",
    "command_center/sla.py", "command_center/dispatch/candidates.py", "command_center/dispatch/modes.py",
    "command_center/selectors.py",
    "enforcement/routing.py", "enforcement/services/access.py", "enforcement/services/catalog.py",
    "enforcement/services/checklists.py", "enforcement/services/power.py", "enforcement/services/scenarios.py",
    "grids/services.py", "grids/selectors.py",
]
# Chinese literals that are data, not messages: never translated.
DATA = {
    ("command_center/open311/selectors.py", "附图："),  # a marker inside stored descriptions
    # the names of the preset SLA policies, stored as the policies' names (migration 0002 copies them)
    ("command_center/sla.py", "1510（1分钟签收、5分钟到场、10分钟处置）"),
    ("command_center/sla.py", "1358（1分钟响应、3分钟联动、5分钟到场、8分钟反馈）"),
    ("command_center/sla.py", "1315（1分钟响应、3分钟出发、15分钟处置）"),
    ("command_center/sla.py", "20分钟快速响应"),
}
MARKERS = {"_", "gettext", "gettext_lazy", "gettext_noop"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _strings(path):
    """(marked msgids, unmarked Chinese literals) of one module; docstrings are neither."""
    tree = ast.parse((Path(settings.BASE_DIR) / path).read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    marked, unmarked = set(), set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value)):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Expr):
            continue
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in MARKERS:
            marked.add(node.value)
        else:
            unmarked.add(node.value)
    return marked, unmarked


@pytest.mark.parametrize("path", MODULES)
def test_every_chinese_message_of_the_module_is_marked_and_translated(path):
    marked, unmarked = _strings(path)
    assert {(path, s) for s in unmarked} <= DATA, sorted(unmarked)
    assert marked, path
    with translation.override("en"):
        untranslated = [m for m in marked if not translation.gettext(m) or translation.gettext(m) == m]
    assert not untranslated, untranslated
    placeholders = re.compile(r"%\((\w+)\)")
    with translation.override("en"):
        for m in marked:  # the English keeps every placeholder (a lost one would show the raw msgid or crash)
            assert set(placeholders.findall(translation.gettext(m))) == set(placeholders.findall(m)), m


# --- walk 2: real requests ---------------------------------------------------------------------

URL = "/api/v1/events/"


def _both(client_for, method, url, data=None, **headers):
    """(Chinese answer, English answer) of the same request: the default, then Accept-Language: en."""
    out = []
    for lang in (None, "en"):
        h = dict(headers, **({"HTTP_ACCEPT_LANGUAGE": lang} if lang else {}))
        client = client_for()
        r = getattr(client, method)(url, data, format="json", **h) if data is not None else getattr(client, method)(url, **h)
        out.append(r)
    return out


def _text(response):
    body = response.json()
    return body["detail"] if "detail" in body else " ".join(m for msgs in body.values() for m in msgs)


def _expect(zh_msgid, en_text, pair, status):
    zh, en = pair
    assert zh.status_code == en.status_code == status, (zh.content, en.content)
    assert zh_msgid in _text(zh), _text(zh)
    assert en_text in _text(en), _text(en)
    assert not CJK.search(_text(en)), _text(en)


@pytest.mark.django_db
def test_event_api_errors_answer_in_the_clients_language(api, users, report, officers):
    event = report()
    etag = {"HTTP_IF_MATCH": event.etag}
    disp = lambda: api(users["dispatcher"])  # noqa: E731
    officer = lambda: api(users["officer_s1"])  # noqa: E731
    # 400 field errors: the service's own checks
    _expect("执法队员不存在或不在您的辖区。", "The officer does not exist",
            _both(disp, "post", f"{URL}{event.pk}/dispatch/", {"officer": 999999}, **etag), 400)
    _expect("目标事件不存在。", "The target event does not exist.",
            _both(disp, "post", f"{URL}{event.pk}/merge/", {"into": 999999}, **etag), 400)
    _expect("不能合并到自身。", "cannot be merged into itself",
            _both(disp, "post", f"{URL}{event.pk}/merge/", {"into": event.pk}, **etag), 400)
    # 403: the role check, naming the step in the reader's language
    _expect("只有被派遣的执法队员本人可以签收。", "Only the dispatched officer may do this: Sign for",
            _both(officer, "post", f"{URL}{event.pk}/accept/", {}, **etag), 403)
    # 404 outside the areas
    _expect("事件不存在。", "Event not found", _both(lambda: api(users["leader_s2"]), "get", f"{URL}{event.pk}/"), 404)
    # 409 an illegal step (the status and the action in labels)
    _expect("不能执行“办结评价”", "\"Close", _both(disp, "post", f"{URL}{event.pk}/close/", {}, **etag), 409)
    # 412 a stale version
    _expect("事件已被他人修改", "changed by someone else",
            _both(disp, "post", f"{URL}{event.pk}/reject/", {"reason": "x"}, HTTP_IF_MATCH=f'"{event.pk}-v9"'), 412)
    # 409 the severity unchanged
    _expect("等级未变化。", "The severity is unchanged.",
            _both(disp, "post", f"{URL}{event.pk}/severity/", {"severity": event.severity, "reason": "x"}, **etag), 409)
    assert Event.objects.get(pk=event.pk).version == event.version  # nothing half-written


@pytest.mark.django_db
def test_intake_and_routing_errors_answer_in_the_clients_language(api, users, catalog):
    platform = lambda: api(users["platform"])  # noqa: E731
    good = {"source": "citizen", "problem_type": "ZDJY", "description": "占道", "lat": S1_POINT[0], "lng": S1_POINT[1]}
    _expect("未知或已停用的问题类型：NOPE。", "Unknown or inactive problem type: NOPE.",
            _both(platform, "post", URL, {**good, "problem_type": "NOPE"}), 400)
    _expect("该位置不在您的辖区内。", "This location is outside your jurisdiction.",
            _both(lambda: api(users["nobody"]), "post", URL, good), 403)


@pytest.mark.django_db
def test_catalog_and_grid_errors_answer_in_the_clients_language(api, users, district, categories):
    bureau = lambda: api(users["bureau"])  # noqa: E731
    _expect("该位置不在任何网格内。", "This location is in no grid.",
            _both(bureau, "post", "/api/v1/subjects/", {"name": "某店", "category": "FOOD-R", "lat": 10, "lng": 10}), 400)
    _expect("只有绑定全区的区综合执法局工作人员可以维护事项清单。", "Only district enforcement bureau staff bound to the whole district",
            _both(lambda: api(users["dispatcher"]), "post", "/api/v1/matters/",
                  {"code": "M-1", "name": "x", "department": "ZHZF", "kind": "administrative_penalty"}), 403)


@pytest.mark.django_db
def test_open311_errors_answer_in_the_clients_language(client, users, catalog):
    key = Token.objects.create(user=users["platform"]).key
    data = {"api_key": key, "service_code": "NOPE", "lat": S1_POINT[0], "long": S1_POINT[1], "description": "x"}
    zh = client.post("/open311/v2/requests.json", data)
    en = client.post("/open311/v2/requests.json", data, HTTP_ACCEPT_LANGUAGE="en")
    assert zh.status_code == en.status_code
    assert "不存在或已停用" in zh.content.decode()
    assert "does not exist or is inactive" in en.content.decode() and not CJK.search(en.content.decode())
    missing = client.get("/open311/v2/requests/999999.json", HTTP_ACCEPT_LANGUAGE="en")
    assert missing.status_code == 404 and "does not exist" in missing.content.decode()


@pytest.mark.django_db
def test_a_browser_session_on_the_api_follows_the_pages_language_not_the_browsers(client, users, report):
    """The desk's scripts call the API with the session cookie: an English browser still gets Chinese
    unless the user switched the language."""
    event = report()
    client.force_login(users["leader_s2"])
    r = client.get(f"{URL}{event.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 404 and r.json()["detail"] == "事件不存在。"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.get(f"{URL}{event.pk}/").json()["detail"] == "Event not found."


@pytest.mark.django_db
def test_a_token_client_gets_english_even_with_a_cookie_jar(client, users, report):
    """A program with a token (Authorization header) is an API client, whatever cookies it carries."""
    event = report()
    key = Token.objects.create(user=users["leader_s2"]).key
    client.force_login(users["leader_s2"])  # a session cookie in the jar
    r = client.get(f"{URL}{event.pk}/", HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 404 and r.json()["detail"] == "Event not found."
    assert client.get(f"{URL}{event.pk}/", HTTP_AUTHORIZATION=f"Token {key}").json()["detail"] == "事件不存在。"


@pytest.mark.django_db
def test_an_english_client_reports_and_the_routing_reason_is_stored_in_chinese(api, users, catalog):
    body = {"source": "citizen", "problem_type": "ZDJY", "description": "占道", "lat": S1_POINT[0], "lng": S1_POINT[1]}
    r = api(users["platform"]).post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 201, r.content
    stored = Event.objects.get(pk=r.json()["id"]).routing_reason
    assert "承接" in stored and "赋权" in stored, stored
