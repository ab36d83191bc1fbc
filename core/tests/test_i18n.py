"""English through Django's i18n: Chinese by default, English after the language switch, and a complete,
compiled English catalog (locale/en/LC_MESSAGES/django.po + django.mo).

When a test here fails after you added or changed a Chinese string:
    .venv/bin/python manage.py makemessages -l en --ignore=.venv --ignore=var --ignore=node_modules
then give every new (or `#, fuzzy`) entry of locale/en/LC_MESSAGES/django.po a real English msgstr, and
    .venv/bin/python manage.py compilemessages -l en --ignore=.venv
and commit both django.po and django.mo.
"""
import gettext as gettext_module
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from grids.testing import *  # noqa: F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
CJK = re.compile(r"[\u3400-\u9fff]")

# Pages every signed-in bureau staff member can open.
PAGES = ["/", "/map/", "/subjects/", "/catalog/", "/catalog/?tab=delegations", "/catalog/?tab=problem_types",
         "/catalog/?tab=checklists", "/catalog/?tab=scenarios", "/catalog/versions/", "/catalog/supermarket/",
         "/catalog/import/", "/subjects/import/", "/audit/", "/command/", "/command/screen/", "/credit/ranking/",
         "/credit/ranking/public/"]


@pytest.fixture(autouse=True)
def _back_to_chinese():
    """LocaleMiddleware activates the request's language in this thread and leaves it active: don't let
    English leak into the tests that run after these."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


# --- a small .po reader (no polib) ----------------------------------------------------------------

def _unquote(s: str) -> str:
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s[1:-1])


def read_po(path: Path) -> list[dict]:
    """Entries as {"msgid", "msgid_plural"?, "msgstr" | "msgstr[i]"..., "flags": set, "line"}; obsolete
    (#~) entries are skipped."""
    entries, cur, key = [], None, None
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines() + [""], start=1):
        if not line.strip():
            if cur and "msgid" in cur:
                entries.append(cur)
            cur, key = None, None
            continue
        if line.startswith("#~"):
            continue
        cur = cur or {"flags": set(), "line": no}
        if line.startswith("#,"):
            cur["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif m := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line):
            key = m.group(1)
            cur[key] = _unquote(m.group(2))
        elif line.startswith('"') and key:
            cur[key] += _unquote(line)
        else:
            raise AssertionError(f"{path}:{no}: cannot read {line!r}")
    return entries


def _msgstrs(entry) -> list[str]:
    return [v for k, v in entry.items() if k.startswith("msgstr")]


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sdif]|\{\w*\}", text))


class _Text(HTMLParser):
    """The visible text of a page (text nodes and the labels in title/placeholder/aria-label/value of
    buttons), without <script> and <style> bodies."""

    def __init__(self):
        super().__init__()
        self.chunks, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if value and name in ("title", "placeholder", "aria-label", "alt"):
                self.chunks.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.chunks.extend(part.strip() for part in re.split(r"[\n·|]", data) if part.strip())


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.chunks


def _english(client, user):
    client.force_login(user)
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


# --- (a) Chinese by default, (b) English after the switch -----------------------------------------

def test_default_page_is_chinese(client, users):
    client.force_login(users["bureau"])
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in html
    for label in ("电子地图", "管理对象", "事项清单", "退出"):
        assert label in html
    assert "Log out" not in html and ">Map<" not in html


def test_setlang_en_switches_the_page_to_english(client, users):
    _english(client, users["bureau"])
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    for label in (">Map<", ">Managed subjects<", ">Matter catalog<", ">Audit log<", ">Settings<", "Log out",
                  "Comprehensive Administrative Enforcement Command Center", "Workbench"):
        assert label in html, label
    for label in ("电子地图", "事项清单", "审计记录", "退出", "综合行政执法指挥中心", "工作台"):
        assert label not in html, label
    # …and back.
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html and "电子地图" in html


def test_english_login_page(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    html = client.get("/login/").content.decode()
    assert '<html lang="en">' in html and "Username" in html and "Password" in html and "用户名" not in html


def test_english_pages_show_no_chinese_ui_text(client, users):
    """Every text node of the English pages that is exactly one of our Chinese msgids means a string
    the page did not translate. (Chinese data, such as area names, may stay.)"""
    msgids = {e["msgid"] for e in read_po(PO) if e["msgid"] and CJK.search(e["msgid"])}
    _english(client, users["bureau"])
    untranslated = {}
    for url in PAGES:
        r = client.get(url)
        assert r.status_code == 200, url
        html = r.content.decode()
        assert '<html lang="en">' in html, url
        # The language switch names each language in itself: "简体中文" stays.
        left = sorted({t for t in visible_text(html) if t.rstrip("：:") in msgids and t != "简体中文"})
        if left:
            untranslated[url] = left
    assert not untranslated


def test_english_page_headings(client, users):
    _english(client, users["bureau"])
    assert "Layers" in client.get("/map/").content.decode()
    html = client.get("/subjects/").content.decode()
    assert "All areas" in html and "Export CSV" in html
    html = client.get("/catalog/").content.decode()
    assert "Enforcement matter catalog" in html and "Power-and-responsibility list" in html
    assert "Inspect once" in html and "Regulate one thing" in html


def test_english_command_and_credit_pages(client, users):
    _english(client, users["bureau"])
    html = client.get("/command/").content.decode()
    assert "Dispatch console" in html and "Officers on duty" in html and "指挥调度台" not in html
    html = client.get("/credit/ranking/").content.decode()
    assert "Credit ranking" in html and "Public ranking" in html
    # Choice labels built with % at import time would stay Chinese whatever the request's language.
    assert "Compared with 7 days ago" in html and "较 7 天前" not in html
    html = client.get("/credit/ranking/public/").content.decode()
    assert "Public credit ranking" in html and "Compared with 30 days ago" in html and "较 30 天前" not in html


def test_english_phone_task_page(client, users, officers):
    """/m/ is for enforcement officers only, so it is not in PAGES (bureau staff get 403 there)."""
    msgids = {e["msgid"] for e in read_po(PO) if e["msgid"] and CJK.search(e["msgid"])}
    _english(client, users["officer_s1"])
    r = client.get("/m/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<html lang="en">' in html and "My tasks" in html
    assert not {t for t in visible_text(html) if t.rstrip("：:") in msgids and t != "简体中文"}


def test_english_admin(client, users):
    """Django's admin is English by itself; the app and model names come from our catalog."""
    client.force_login(users["bureau"])
    users["bureau"].is_staff = users["bureau"].is_superuser = True
    users["bureau"].save()
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    html = client.get("/admin/").content.decode()
    assert '<html lang="en"' in html
    for label in ("Site administration", "Grids and units", "Command center", "Enforcement matters and cases"):
        assert label in html, label
    for label in ("网格与单位", "指挥中心", "执法事项与办案", "站点管理"):
        assert label not in html, label


def test_api_errors_follow_the_language(client, users):
    client.force_login(users["dispatcher"])
    assert client.get("/api/v1/events/0/").json()["detail"] == "事件不存在。"
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert client.get("/api/v1/events/0/").json()["detail"] == "Event not found."


# --- (c) the catalog is complete, (d) and compiled ------------------------------------------------

def test_po_has_no_untranslated_or_fuzzy_entries():
    entries = read_po(PO)
    header = entries[0]
    assert header["msgid"] == "" and "Language: en" in header["msgstr"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"]
    problems = []
    for e in entries[1:]:
        where = f"{PO.name}:{e['line']} {e['msgid']!r}"
        if "fuzzy" in e["flags"]:
            problems.append(f"{where}: fuzzy")
        strs = _msgstrs(e)
        if "msgid_plural" in e and len(strs) != 2:
            problems.append(f"{where}: needs msgstr[0] and msgstr[1]")
        if not strs or not all(s.strip() for s in strs):
            problems.append(f"{where}: untranslated")
            continue
        if any(CJK.search(s) for s in strs):
            problems.append(f"{where}: the English still holds Chinese")
        for s in strs:
            if _placeholders(s) != _placeholders(e["msgid"]):
                problems.append(f"{where}: placeholders {_placeholders(s)} != {_placeholders(e['msgid'])}")
    assert not problems, "\n".join(problems)
    assert len(entries) > 100  # the catalog is really there


def test_po_entries_are_unique():
    seen = [(e.get("msgctxt"), e["msgid"]) for e in read_po(PO)]
    assert len(seen) == len(set(seen))


def test_mo_is_compiled_from_the_current_po():
    """The committed .mo says what the committed .po says (machines without gettext use the .mo).
    Compared entry by entry, not byte by byte: another msgfmt version may lay the file out differently."""
    assert MO.exists(), "run: manage.py compilemessages -l en --ignore=.venv"
    with MO.open("rb") as f:
        compiled = dict(gettext_module.GNUTranslations(f)._catalog)
    expected = {}
    for e in read_po(PO)[1:]:
        key = f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"]
        if "msgid_plural" in e:
            for k, v in e.items():
                if k.startswith("msgstr["):
                    expected[(key, int(k[7:-1]))] = v
        else:
            expected[key] = e["msgstr"]
    compiled.pop("", None)
    stale = {k for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k)}
    assert not stale, f"django.mo is stale ({len(stale)} entries differ): run manage.py compilemessages -l en"


def test_po_is_valid_for_msgfmt():
    if shutil.which("msgfmt") is None:
        pytest.skip("gettext (msgfmt) not installed")
    # Django's compilemessages runs msgfmt with --check-format: placeholders must match the msgid's.
    subprocess.run(["msgfmt", "--check-format", "-o", "/dev/null", str(PO)], check=True, capture_output=True)


def test_gettext_with_the_compiled_catalog():
    with translation.override("en"):
        assert translation.gettext("电子地图") == "Map"
        assert translation.gettext("事件不存在。") == "Event not found."
        assert translation.gettext("已导入：新增 %(c)d，更新 %(u)d，未变 %(n)d。") % {"c": 1, "u": 2, "n": 3} == \
            "Imported: 1 added, 2 updated, 3 unchanged."
        n = "第 %(n)s / %(total)s 页，共 %(counter)s 条"
        assert translation.ngettext(n, n, 1) % {"n": 1, "total": 1, "counter": 1} == "Page 1 of 1, 1 row in all"
        assert translation.ngettext(n, n, 5) % {"n": 1, "total": 1, "counter": 5} == "Page 1 of 1, 5 rows in all"
    with translation.override("zh-hans"):
        assert translation.gettext("电子地图") == "电子地图"
