"""Words people read on the desk: one set of severity names everywhere (the API, the page templates and
the scripts' configuration agree), names beside codes in the event API, people's names in the timeline,
and server-written timeline notes shown in the reader's language."""
import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from command_center import notes
from command_center.choices import Severity
from command_center.models import TimelineEntry
from command_center.services import transitions
from command_center.testing import S2_POINT, SEVERITY_EN as EN, SEVERITY_ZH as ZH



def _page(user, name, language=None):
    c = Client()
    c.force_login(user)
    if language:
        c.cookies["django_language"] = language
    html = c.get(reverse(name)).content.decode()
    config = json.loads(re.search(r'<script id="cc-config" type="application/json">(.*?)</script>', html, re.S).group(1))
    return html, config


@pytest.mark.django_db
@pytest.mark.parametrize("language,words", [(None, ZH), ("en", EN)])
def test_severity_names_are_one_set_in_the_api_the_pages_and_the_scripts(api, users, report, language, words):
    with translation.override(language or "zh-hans"):
        assert {k: str(v) for k, v in Severity.choices} == words
    event = report(severity="red")
    client = api(users["dispatcher"])
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    body = client.get(reverse("event-detail", args=[event.pk]), **headers).json()
    assert body["severity_label"] == words["red"]
    for name in ("command-dashboard", "command-screen"):
        html, config = _page(users["dispatcher"], name, language)
        assert config["labels"]["severity"] == words           # what the queue, drawer and filters show
        for value, label in words.items():                     # the header counters, from the same labels
            assert f'<b data-count="open-{value}">–</b> {label}</span>' in html
        for old in ("特别重大", "（重大）", "（一般）", "（普通）", "（较大）", "（重要）"):
            assert old not in html


def test_severity_names_are_never_cut_off_by_the_stylesheet():
    from django.conf import settings
    css = re.sub(r"/\*.*?\*/", "", (settings.BASE_DIR / "static/css/dashboard.css").read_text(), flags=re.S)
    rules = {m.group(1).strip(): m.group(2) for m in re.finditer(r"([^{}]+)\{([^}]*)\}", css)}
    for selector in (".cc-row .cc-sev", ".bars li span:first-child"):
        assert "ellipsis" not in rules[selector] and "nowrap" not in rules[selector], selector


@pytest.mark.django_db
def test_the_event_api_names_street_grid_and_community_beside_the_codes(api, users, report, district):
    event = report()
    body = api(users["dispatcher"]).get(reverse("event-detail", args=[event.pk])).json()
    assert (body["street_code"], body["street_name"]) == ("S1", "街道1")
    assert (body["grid_code"], body["grid_name"]) == ("S1G1", "网格1-1")
    assert body["community_name"] == "社区1"
    assert (body["area_code"], body["area_name"]) == ("S1G1M1", "微网格1-1-1")
    listed = api(users["bureau"]).get(reverse("event-list")).json()
    row = next(r for r in listed["results"] if r["id"] == event.pk)
    assert (row["street_name"], row["grid_name"], row["community_name"]) == ("街道1", "网格1-1", "社区1")


@pytest.mark.django_db
def test_the_timeline_names_people_and_the_platform(api, users, report, officers):
    users["dispatcher"].first_name = "王调度"
    users["dispatcher"].save(update_fields=["first_name"])
    event = report()
    transitions.dispatch(users["dispatcher"], event, officers["s1"], reason="就近派遣")
    timeline = api(users["dispatcher"]).get(reverse("event-detail", args=[event.pk])).json()["timeline"]
    by_action = {t["action"]: t for t in timeline}
    assert by_action["dispatch"]["actor"] == "dispatcher"          # the code field stays as it was
    assert by_action["dispatch"]["actor_name"] == "王调度"
    assert by_action["create"]["actor_name"] == users["platform"].get_username()  # no full name: the username
    en = api(users["dispatcher"]).get(reverse("event-detail", args=[event.pk]), HTTP_ACCEPT_LANGUAGE="en").json()
    TimelineEntry.objects.create(event=event, at=event.created_at, actor_label="system", action="breach")
    en = api(users["dispatcher"]).get(reverse("event-detail", args=[event.pk]), HTTP_ACCEPT_LANGUAGE="en").json()
    assert [t["actor_name"] for t in en["timeline"] if t["actor"] == "system"] == ["System"]
    zh = api(users["dispatcher"]).get(reverse("event-detail", args=[event.pk])).json()
    assert [t["actor_name"] for t in zh["timeline"] if t["actor"] == "system"] == ["系统"]


@pytest.mark.django_db
def test_server_written_notes_are_stored_in_chinese_and_read_in_the_readers_language(api, users, report):
    event = report()
    with translation.override("en"):  # written during an English request: stored in the default language
        text, data = notes.compose((notes._("受理后自动派遣"), None),
                                   (notes._("%(stage)s超时（时限 %(due)s）"), {"stage": "签收", "due": "10:00:00"}))
    assert text == "受理后自动派遣；签收超时（时限 10:00:00）"
    TimelineEntry.objects.create(event=event, at=event.created_at, actor_label="system", action="breach", note=text, data=data)
    # a note written before parts existed, and a person's own words: shown as stored
    TimelineEntry.objects.create(event=event, at=event.created_at, actor_label="system", action="breach", note="旧说明")
    url = reverse("event-detail", args=[event.pk])
    en = [t["note"] for t in api(users["dispatcher"]).get(url, HTTP_ACCEPT_LANGUAGE="en").json()["timeline"]]
    assert "Dispatched automatically after acceptance; Sign for overdue (due 10:00:00)" in en
    assert "旧说明" in en
    zh = [t["note"] for t in api(users["dispatcher"]).get(url).json()["timeline"]]
    assert text in zh


@pytest.mark.django_db
def test_a_breach_note_of_the_sla_sweep_reads_in_english(api, users, report):
    from datetime import timedelta

    from django.utils import timezone

    from command_center.services import sweep

    event = report(point=S2_POINT)
    sweep.sweep_due_deadlines(now=timezone.now() + timedelta(days=2))
    url = reverse("event-detail", args=[event.pk])
    en = [t for t in api(users["dispatcher"]).get(url, HTTP_ACCEPT_LANGUAGE="en").json()["timeline"] if t["action"] == "breach"]
    zh = [t for t in api(users["dispatcher"]).get(url).json()["timeline"] if t["action"] == "breach"]
    assert en and all("overdue (due" in t["note"] for t in en)
    assert all("超时（时限" in t["note"] for t in zh)


def test_spreadsheets_may_name_a_colour_by_its_label_its_colour_or_its_old_name():
    from enforcement.choices import SEVERITY_ALIASES, label_to_value

    for text in ("黄色普通事件", "黄色", "黄", "黄色（较大）", "yellow"):
        assert label_to_value(Severity, text, aliases=SEVERITY_ALIASES) == "yellow", text
    assert label_to_value(Severity, "紫色", aliases=SEVERITY_ALIASES) is None
