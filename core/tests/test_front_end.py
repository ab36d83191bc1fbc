"""The pages' scripts and styles: configuration and strings reach every script one way (a json_script
block), the scripts are ES modules from this site, one palette holds the severity and credit colours,
and every string a script shows has its English."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from core import script_text

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
CJK = re.compile(r"[\u3400-\u9fff]")
# The page, the id of its configuration block, and the module it runs.
PAGES = [("/command/", "cc-config", "js/dashboard/main.js"), ("/command/screen/", "cc-config", "js/dashboard/main.js"),
         ("/map/", "map-config", "js/map.js")]


def config_of(html: str, block_id: str) -> dict:
    found = re.search(rf'<script id="{block_id}" type="application/json">(.*?)</script>', html, re.S)
    assert found, f"no json_script block {block_id}"
    return json.loads(found.group(1))


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "block_id", "module"), PAGES)
def test_pages_hand_their_scripts_json_and_run_modules(path, block_id, module, users):
    client = Client()
    client.force_login(users["dispatcher"])
    html = client.get(path).content.decode()
    config = config_of(html, block_id)
    assert config["messages"] and "tileUrl" in config
    assert f'<script type="module" src="/static/{module}">' in html
    assert "<script nonce" not in html, "configuration as data (json_script), not as an inline script"
    assert "window." not in html


@pytest.mark.django_db
def test_phone_page_hands_its_script_json_and_runs_a_module(users, officers):
    client = Client()
    client.force_login(users["officer_s1"])
    html = client.get("/m/").content.decode()
    assert config_of(html, "mobile-config")["messages"]["left"]
    assert '<script type="module" src="/static/js/mobile.js">' in html and "<script nonce" not in html


@pytest.mark.parametrize("keys", [script_text.DESK, script_text.MAP, script_text.PHONE], ids=["desk", "map", "phone"])
def test_every_script_string_has_its_english(keys):
    with translation.override("en"):
        english = script_text.pick(keys)
    untranslated = {k: v for k, v in english.items() if CJK.search(json.dumps(v, ensure_ascii=False))}
    assert not untranslated


# --- one palette ------------------------------------------------------------------------------

PALETTE = (STATIC / "css" / "palette.css").read_text()
DEFINED = set(re.findall(r"(--(?:sev|credit|duty)-[\w-]+)\s*:", PALETTE))


def test_severity_and_credit_colours_are_written_once():
    # (not the markers' grey outline, --credit-stroke: a neutral many styles use)
    colours = set(re.findall(r"--(?:sev-[\w-]+|credit-(?:red|yellow|green|none)):\s*(#[0-9a-fA-F]{6})", PALETTE))
    assert {"#c62828", "#a85200", "#866a00", "#1565c0", "#2e7d32"} <= colours  # the site's (AA: see below)
    for path in [*STATIC.glob("css/*.css"), *STATIC.glob("js/**/*.js"), *(ROOT / "templates").rglob("*.html")]:
        if path.name == "palette.css":
            continue
        text = path.read_text().lower()
        assert not [c for c in colours if c in text], f"{path.relative_to(ROOT)}: use the palette (var(--…))"


def _luminance(hex_colour):
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _block(selector):
    body = re.search(re.escape(selector) + r"\s*\{(.*?)\}", PALETTE, re.S).group(1)
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})", body))


def test_severity_colours_pass_wcag_aa_as_text_and_on_the_maps():
    """Issue 14 item 18: as text ≥ 4.5:1 on white, the page, an overdue row and the light map; the
    dark theme's (the big screen) on its panels and its map; the text on a severity fill ≥ 4.5:1."""
    light, dark = _block(":root"), _block(".theme-dark")
    for name in ("--sev-red", "--sev-orange", "--sev-yellow", "--sev-blue"):
        for background in ("#ffffff", "#f4f6f8", light["--overdue-bg"], light["--map-bg"]):
            assert contrast(light[name], background) >= 4.5, (name, background)
        assert contrast(light[name], light["--on-sev"]) >= 4.5, name
        for background in ("#12294f", "#0a1730", dark["--map-bg"]):
            assert contrast(dark[name], background) >= 4.5, (name, "dark", background)
        assert contrast(dark[name], dark["--on-sev"]) >= 4.5, (name, "dark fill")
    assert contrast(light["--text-muted"], "#f4f6f8") >= 4.5
    assert contrast(light["--marker-stroke"], light["--map-bg"]) >= 3 and contrast(dark["--marker-stroke"], dark["--map-bg"]) >= 3
    for name in ("--credit-red", "--credit-green", "--duty-available", "--duty-en_route", "--duty-on_scene", "--duty-busy"):
        assert contrast(light[name], light["--map-bg"]) >= 3, name   # map markers: non-text, 3:1


def test_every_palette_name_used_is_defined():
    used = set()
    for path in STATIC.glob("css/*.css"):
        used |= set(re.findall(r"var\((--(?:sev|credit|duty)-[\w-]+)\)", path.read_text()))
    script = (STATIC / "js" / "palette.js").read_text()
    for group, prefix in (("severity", "--sev-"), ("credit", "--credit-"), ("duty", "--duty-")):
        names = re.search(rf'{group}: read\(\[([^\]]*)\], "{prefix}"\)', script).group(1)
        used |= {prefix + n for n in re.findall(r'"([\w-]+)"', names)}
    assert used and used <= DEFINED, used - DEFINED


# --- the shared module, run by Node when it is installed ----------------------------------------------

NODE = shutil.which("node")


@pytest.mark.skipif(not NODE, reason="Node.js not installed")
def test_shared_module_errors_and_countdowns():
    probe = """
    import {countdown, errorText} from "%s";
    console.log(JSON.stringify([
      countdown(61000), countdown(-61000), countdown(3723000), countdown(0),
      errorText(400, {reason: ["必填"], into: "无效"}, "操作失败"),
      errorText(400, {reason: ["必填"]}, "操作失败", {fieldNames: false}),
      errorText(404, {detail: "未找到"}, "操作失败"), errorText(502, null, "操作失败"), errorText(400, {}, "操作失败"),
    ]));
    """ % (STATIC / "js" / "common.js").as_uri()
    out = subprocess.run([NODE, "--input-type=module", "-e", probe], capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(out.stdout) == ["1:01", "-1:01", "1:02:03", "0:00", "reason: 必填；into: 无效", "必填", "未找到",
                                      "操作失败 (502)", "操作失败 (400)"]
