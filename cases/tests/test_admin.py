from django.test import Client

from cases.models import LenientListEntry
from core.models import AuditLog
from grids.testing import *  # noqa: F403


def test_bureau_edits_the_no_penalty_list_audited_never_deleted(users):
    client = Client()
    client.force_login(users["bureau"])
    r = client.post("/admin/cases/lenientlistentry/add/", {"matter_code": "M-SHOP", "ground": "first", "note": "",
                                                           "active": "on"})
    assert r.status_code == 302, r.content[:500]
    entry = LenientListEntry.objects.get()
    assert AuditLog.objects.filter(object_type="cases.lenientlistentry", object_id=str(entry.pk)).exists()
    assert client.post(f"/admin/cases/lenientlistentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    officer = Client()
    officer.force_login(users["officer_s1"])
    assert officer.get("/admin/cases/lenientlistentry/").status_code in (302, 403)
