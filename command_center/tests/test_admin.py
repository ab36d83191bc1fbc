import json

import pytest

from command_center import sla
from command_center.models import SlaPolicy
from core.models import AuditLog

pytestmark = pytest.mark.django_db


def test_policy_admin_saves_through_the_service(logged_in, district):
    c = logged_in("bureau_s1")
    url = "/admin/command_center/slapolicy/add/"
    assert c.get(url).status_code == 200
    bad = c.post(url, {"name": "坏", "street": district["S1"].pk, "severity": "red",
                       "stages": json.dumps([{"stage": "arrive", "minutes": -1, "met_by": "arrive"}])})
    assert bad.status_code == 200 and "分钟数" in bad.content.decode()
    ok = c.post(url, {"name": "S1 红色 1358", "street": district["S1"].pk, "severity": "red",
                      "stages": json.dumps(sla.PRESETS["1358"]["stages"])})
    assert ok.status_code == 302, ok.content.decode()[:2000]
    p = SlaPolicy.objects.get(street=district["S1"], severity="red")
    assert p.stages == sla.PRESETS["1358"]["stages"]
    assert AuditLog.objects.filter(action="sla_policy.saved", object_id=str(p.pk)).exists()
    other = c.post(url, {"name": "S2", "street": district["S2"].pk, "severity": "red",
                         "stages": json.dumps(sla.PRESETS["20"]["stages"])})
    assert other.status_code == 200 and not SlaPolicy.objects.filter(street=district["S2"]).exists()
    # district defaults are not theirs to see or change
    default = SlaPolicy.objects.get(street__isnull=True, severity="red")
    assert c.get(f"/admin/command_center/slapolicy/{default.pk}/change/").status_code in (302, 403, 404)


def test_event_admin_is_read_only(logged_in, report):
    e = report()
    c = logged_in("bureau")
    assert c.get("/admin/command_center/event/").status_code == 200
    assert c.get(f"/admin/command_center/event/{e.pk}/change/").status_code == 200
    assert c.get("/admin/command_center/event/add/").status_code == 403
