"""Test support for the command center: the points of the test district, a small published catalog,
an event reporter, a crew of officers at known distances, dispatch rules, a webhook receiver, and the demo
district loaded once a session (capture_demo, restore_demo).
The fixtures that wrap them are in command_center/tests/conftest.py (and tests_integration/conftest.py)."""
import copy
import io
import os
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone
from PIL import Image

from command_center.models import DispatchRule
from command_center.services import intake
from enforcement.services import catalog as catalog_services
from enforcement.services import power as power_services
from grids import accounts
from grids.models import Officer

# Points inside the test district (grids.testing): S1 grid 1 micro-grid 1, and S2 grid 1 micro-grid 1.
S1_POINT = (30.2, 120.2)
S2_POINT = (30.2, 121.2)
M_PER_DEG_LAT = 111_195
# The one set of severity names (issue 14), as readers see them.
SEVERITY_ZH = {"blue": "蓝色一般事件", "yellow": "黄色普通事件", "orange": "橙色重要事件", "red": "红色特大事件"}
SEVERITY_EN = {"blue": "Blue general", "yellow": "Yellow normal", "orange": "Orange important", "red": "Red major"}


def build_catalog():
    """Two matters of the comprehensive enforcement department, both delegated to S1 only; problem types
    ZDJY (street vending, yellow) and YYCB (restaurant fume, orange, about a subject)."""
    catalog_services.create_matter(None, code="M-ZD", name="占道经营", law="《城市市容和环境卫生管理条例》", article="第三十六条",
                     department="ZHZF", kind="administrative_penalty", domain="市容")
    catalog_services.create_matter(None, code="M-YY", name="餐饮油烟超标排放", law="《大气污染防治法》", article="第一百一十八条",
                     department="ZHZF", kind="administrative_penalty", domain="环保")
    for code in ("M-ZD", "M-YY"):
        catalog_services.delegate(None, matter_code=code, street_code="S1", effective_from=date(2020, 1, 1))
    power_services.save_problem_type(None, code="ZDJY", name="占道经营", matter_code="M-ZD", default_severity="yellow")
    power_services.save_problem_type(None, code="YYCB", name="油烟超标", matter_code="M-YY", default_severity="orange", about_subject=True)
    catalog_services.publish_draft(None)
    return {"problem_types": ["ZDJY", "YYCB"]}


def report_maker(default_client):
    """report(**fields) → a new event through intake (by `default_client` unless client= is given)."""

    def make(client=None, key=None, **fields):
        lat, lng = fields.pop("point", S1_POINT)
        data = {"source": "citizen", "problem_type": "ZDJY", "description": "人行道上有流动摊贩占道经营",
                "lat": lat, "lng": lng, **fields}
        event, _created = intake.intake_event(client or default_client, data, idempotency_key=key)
        return event

    return make


def make_dispatchable(officers):
    """The shared officers (grids.testing) as the desk meets them: on duty, a fresh position at their
    street's point, 李四 also qualified for the comprehensive enforcement department's matters, so a desk's
    pick of them needs no override."""
    from grids.choices import DutyStatus
    from grids.models import Department

    now = timezone.now()
    for key, (lat, lng) in (("s1", S1_POINT), ("s2", S2_POINT)):
        Officer.objects.filter(pk=officers[key].pk).update(duty_status=DutyStatus.AVAILABLE,
                                                           last_lat=lat, last_lng=lng, last_position_at=now)
        officers[key].refresh_from_db()
    officers["s2"].skill_departments.add(*Department.objects.filter(code="ZHZF"))


def build_crew(teams, departments):
    """Officers of S1 placed north of S1_POINT at the given distances (metres): near, far, skilled, busy,
    off duty, stale position, no position, unskilled, captain."""
    now = timezone.now()

    def add(name, *, metres=None, duty="available", dept="ZHZF", rank=1, team="S1", skills=(), stale=False):
        u = accounts.add_user(None, username=f"u-{name}", role="officer", area_codes=[team])[0]
        o = Officer.objects.create(
            user=u, name=name, badge_no=f"B-{name}", team=teams[team], home_department=departments[dept], rank=rank,
            duty_status=duty,
            last_lat=None if metres is None else S1_POINT[0] + metres / M_PER_DEG_LAT,
            last_lng=None if metres is None else S1_POINT[1],
            last_position_at=None if metres is None else now - timedelta(minutes=30 if stale else 1),
        )
        o.skill_departments.set([departments[d] for d in skills])
        return o

    return {
        "near": add("近", metres=100),
        "far": add("远", metres=1000),
        "skilled": add("市监兼", metres=500, dept="SCJG", skills=["ZHZF"]),
        "busy": add("忙", metres=50, duty="busy"),
        "off": add("下班", metres=10, duty="off_duty"),
        "stale": add("旧定位", metres=20, stale=True),
        "nopos": add("无定位"),
        "unskilled": add("市监", metres=30, dept="SCJG"),
        "captain": add("队长", metres=2000, rank=4),
    }


def rule(severity="yellow", mode="automatic", street=None, next_on_decline=False):
    return DispatchRule.objects.create(street=street, severity=severity, mode=mode, next_on_decline=next_on_decline)


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 in a thread: records each POST, answers with `status`."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.answer = None  # the body of the answer (default "ok" / "boom")
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(receiver.answer or (b"ok" if receiver.status < 300 else b"boom"))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def open_dashboard(page, base):
    """Open the desk in a browser page and wait until it is live (snapshot loaded, socket connected)."""
    page.goto(f"{base}/command/")
    page.wait_for_selector("body[data-ready='1'][data-link='live']", state="attached", timeout=15000)


def image_bytes(fmt="PNG", size=(8, 6), color=(200, 30, 30)):
    """color None: random noise (does not compress, so the file is about 3 bytes a pixel)."""
    buf = io.BytesIO()
    image = (Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if color is None
             else Image.new("RGB", size, color))
    image.save(buf, fmt)
    return buf.getvalue()


def upload(name="p.png", content=None, fmt="PNG", **kw):
    return SimpleUploadedFile(name, content if content is not None else image_bytes(fmt, **kw))


def person_case_in_s1(users, teams, departments, prefix="rm"):
    """A case against a street vendor in S1 (matter M-ZD of the test catalog), filed by S1's leader with
    two new S1 officers as its handlers."""
    from cases import services as case_services
    from core import roles

    officers = []
    for i in (1, 2):
        user, _ = accounts.add_user(None, username=f"{prefix}{i}", role=roles.OFFICER, area_codes=["S1"],
                                    password="pass-word-1")
        officers.append(Officer.objects.create(user=user, name=f"队员{i}", badge_no=f"{prefix.upper()}{i}",
                                               team=teams["S1"], home_department=departments["ZHZF"]))
    return case_services.file_case(users["leader_s1"], party_kind="person", person_name="摊主",
                                   street=teams["S1"].street, facts="占道", facts_on=date.today(),
                                   matter_codes=["M-ZD"], handler_ids=[o.pk for o in officers])
# ---- The demo district, loaded once a test session (the demo_snapshot / demo_district fixtures) -----------


@dataclass(frozen=True)
class DemoSnapshot:
    """What `manage.py load_demo` wrote (core.testing.changes_since), printed, and what each of its parts
    returned (by loader path, as the command's `results`)."""
    changes: list
    output: str
    results: dict


def capture_demo() -> DemoSnapshot:
    """Run `manage.py load_demo` once in a transaction that is rolled back, keeping what it wrote."""
    from django.core.management import call_command
    from django.utils.module_loading import import_string

    from command_center.management.commands import load_demo as command
    from core import testing as core_testing

    results = {}

    def recording(path):
        loader = import_string(path)

        def load(**kwargs):
            results[path] = loader(**kwargs)
            return results[path]
        return load

    out = io.StringIO()
    with transaction.atomic():
        before = core_testing.table_rows()
        with mock.patch.object(command, "import_string", recording):
            call_command("load_demo", stdout=out)
        changes = core_testing.changes_since(before)
        transaction.set_rollback(True)
    _forget_cached_areas()
    return DemoSnapshot(changes, out.getvalue(), results)


def restore_demo(snapshot: DemoSnapshot) -> DemoSnapshot:
    """The demo district in this test's database, as load_demo leaves it (PostgreSQL's statistics too)."""
    from core import testing as core_testing

    with transaction.atomic():
        core_testing.replay(snapshot.changes)
    if connection.vendor == "postgresql":  # load_demo's ANALYZE, on the tables it filled
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(c.model._meta.db_table)
                                                  for c in snapshot.changes))
    _forget_cached_areas()
    return DemoSnapshot(snapshot.changes, snapshot.output, copy.deepcopy(snapshot.results))


def _forget_cached_areas():
    from enforcement import routing
    from grids import spatial

    spatial.invalidate()
    routing.invalidate()
