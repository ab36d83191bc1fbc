"""Test support for the catalog: a small published catalog on the test district (streets S1 urban,
S2 general) with its dates, and look-ups of its matters and delegations. The fixtures that wrap it are
in enforcement/tests/conftest.py."""
from datetime import date

from enforcement.models import Delegation, Matter
from enforcement.services import catalog as catalog_services
from enforcement.services import power as power_services

D0 = date(2026, 1, 1)      # S1's delegations start
D1 = date(2026, 6, 1)      # S2's start
D2 = date(2026, 12, 31)    # S2's end (inclusive)

MATTERS = [
    # code, name, dept, kind, domain, non_site, major
    ("SR-001", "对擅自占用城市道路从事经营活动的行政处罚", "ZHZF", "administrative_penalty", "市容环卫", True, False),
    ("GH-001", "对未取得建设工程规划许可证进行建设的行政处罚", "ZHZF", "administrative_penalty", "城乡规划", False, True),
    ("SC-001", "对无证无照经营的行政处罚", "SCJG", "administrative_penalty", "市场监管", False, False),
    ("SC-002", "对食品经营场所的行政检查", "SCJG", "inspection", "市场监管", False, False),
    ("XF-001", "对占用、堵塞、封闭消防车通道的行政处罚", "XF", "administrative_penalty", "应急管理", True, False),
]


def build_catalog(district, departments, teams, *, publish=True):
    draft = catalog_services.open_draft(None, note="测试版")
    for code, name, dept, kind, domain, non_site, major in MATTERS:
        catalog_services.create_matter(None, code=code, name=name, law="《测试条例》", article="第一条", department=dept, kind=kind,
                               domain=domain, non_site=non_site, major_decision=major)
    catalog_services.delegate(None, matter_code="SR-001", street_code="S1", effective_from=D0)
    catalog_services.delegate(None, matter_code="SC-001", street_code="S1", effective_from=D0)
    catalog_services.delegate(None, matter_code="SR-001", street_code="S2", effective_from=D1, effective_to=D2)
    for code, name, matter, severity in (("ZDJY", "占道经营", "SR-001", "yellow"), ("WFJS", "违法建设", "GH-001", "orange"),
                                         ("WZJY", "无证经营", "SC-001", "yellow"), ("XFTD", "消防通道堵塞", "XF-001", "red")):
        power_services.save_problem_type(None, code=code, name=name, matter_code=matter, default_severity=severity)
    if publish:
        catalog_services.publish_draft(None)
    draft.refresh_from_db()
    return draft


def held_delegation(version, code, street):
    return Delegation.objects.get(matter__version=version, matter__code=code, street=street)


def matter(version, code):
    return Matter.objects.get(version=version, code=code)
