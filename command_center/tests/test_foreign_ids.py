"""Every write that takes an id (in its body or its path), across grids, credit and the command center:
an id the asker may not see (another street's) is refused exactly like an id that does not exist — the
same status (400 with a field message for a body id, 404 for a path id), the same message — and nothing is
written (no event, no credit fact, no audit row, no reading, no position)."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from command_center.models import DispatchRule, Event, EventPhoto
from command_center.testing import S1_POINT, S2_POINT
from core.models import AuditLog
from credit.models import CreditFact, CreditOverride, SensorReading
from grids.models import Notice, OfficerPosition, Subject

pytestmark = pytest.mark.django_db

MISSING = 987654321


@pytest.fixture
def world(report, users, officers, categories):
    s1_subject = Subject.objects.create(name="西店", category=categories["restaurant"], lat=30.2001, lng=120.2001,
                                        grid_id=_grid("S1G1"))
    s2_subject = Subject.objects.create(name="东店", category=categories["restaurant"], lat=30.2001, lng=121.2001,
                                        grid_id=_grid("S2G1"))
    return {
        "s1_subject": s1_subject.pk, "s2_subject": s2_subject.pk,
        "s1_event": report().pk, "s2_event": report(point=S2_POINT).pk,
        "s1_officer": officers["s1"].pk, "s2_officer": officers["s2"].pk,
        "S1": _grid("S1"), "S2": _grid("S2"), "S2G1": _grid("S2G1"),
        "s2_rule": DispatchRule.objects.create(street_id=_grid("S2"), severity="red", mode="manual").pk,
    }


def _grid(code):
    from grids.models import Area

    return Area.objects.get(code=code).pk


def _png():
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buf, "PNG")
    return SimpleUploadedFile("p.png", buf.getvalue(), content_type="image/png")


def _event_body(**over):
    return {"source": "citizen", "problem_type": "YYCB", "description": "油烟直排", **over}


def _reading(**over):
    return {"device_id": "FUME-1", "metric": "fume", "value": 3.0, "measured_at": timezone.now().isoformat(), **over}


# (name, who, method, url, body, field): `{foreign}` in the url or the body is replaced by the foreign id
# (another street's, which the asker cannot see) and then by an id that does not exist. field None: a path
# id (404); otherwise a body id (400 naming that field). Bodies are callables (fresh uploads, fresh times).
CASES = [
    ("report about another street's subject", "leader_s1", "post", "/api/v1/events/",
     lambda w: _event_body(lat=S1_POINT[0], lng=S1_POINT[1], subject="{foreign}"), "s2_subject", "subject"),
    ("report by the other street's leader (the attack)", "leader_s2", "post", "/api/v1/events/",
     lambda w: _event_body(lat=S2_POINT[0], lng=S2_POINT[1], subject="{foreign}"), "s1_subject", "subject"),
    ("report photos with another street's subject", "leader_s1", "multipart", "/api/v1/events/",
     lambda w: _event_body(lat=S1_POINT[0], lng=S1_POINT[1], subject="{foreign}", photos=[_png()]), "s2_subject",
     "subject"),
    ("dispatch to another street's officer", "leader_s1", "action", "/api/v1/events/{s1_event}/dispatch/",
     lambda w: {"officer": "{foreign}"}, "s2_officer", "officer"),
    ("merge into another street's event", "leader_s1", "action", "/api/v1/events/{s1_event}/merge/",
     lambda w: {"into": "{foreign}"}, "s2_event", "into"),
    ("act on another street's event", "leader_s1", "action", "/api/v1/events/{foreign}/reject/",
     lambda w: {"reason": "x"}, "s2_event", None),
    ("escalate another street's event", "leader_s1", "action", "/api/v1/events/{foreign}/escalate/",
     lambda w: {"reason": "x"}, "s2_event", None),
    ("transfer another street's event", "leader_s1", "action", "/api/v1/events/{foreign}/transfer/",
     lambda w: {"to": "SCJG", "reason": "x"}, "s2_event", None),
    ("photos on another street's event", "leader_s1", "multipart", "/api/v1/events/{foreign}/photos/",
     lambda w: {"photos": [_png()]}, "s2_event", None),
    ("position of another street's officer", "leader_s1", "post", "/api/v1/officers/{foreign}/position/",
     lambda w: {"lat": 30.2, "lng": 120.2, "recorded_at": timezone.now().isoformat()}, "s2_officer", None),
    ("notice to another street", "leader_s1", "post", "/api/v1/areas/{foreign}/notices/",
     lambda w: {"title": "t", "body": "b"}, "S2", None),
    ("sensor reading of another street's subject", "platform_s2", "post", "/api/v1/sensor-readings/",
     lambda w: _reading(subject="{foreign}"), "s1_subject", "subject"),
    ("credit override of another street's subject", "bureau_s1", "post", "/api/v1/subjects/{foreign}/credit/override/",
     lambda w: {"color": "red", "reason": "x", "expires_at": (timezone.now() + timezone.timedelta(days=3)).isoformat()},
     "s2_subject", None),
    ("end the override of another street's subject", "bureau_s1", "delete",
     "/api/v1/subjects/{foreign}/credit/override/", lambda w: {"reason": "x"}, "s2_subject", None),
    ("edit another street's subject", "bureau_s1", "patch", "/api/v1/subjects/{foreign}/",
     lambda w: {"name": "改"}, "s2_subject", None),
    ("dispatch rule for another street", "bureau_s1", "post", "/api/v1/command/dispatch-rules/",
     lambda w: {"street": "{foreign}", "severity": "red", "mode": "automatic"}, "S2", "street"),
    ("dispatch rule for another street's grid", "bureau_s1", "post", "/api/v1/command/dispatch-rules/",
     lambda w: {"street": "{foreign}", "severity": "red", "mode": "automatic"}, "S2G1", "street"),
    ("edit another street's dispatch rule", "bureau_s1", "patch", "/api/v1/command/dispatch-rules/{foreign}/",
     lambda w: {"mode": "automatic"}, "s2_rule", None),
]


def _fill(value, ids, foreign):
    if isinstance(value, str):
        filled = value.replace("{foreign}", str(foreign)).format(**ids) if "{" in value else value
        return int(filled) if value == "{foreign}" else filled
    return value


def _send(client, method, url, body):
    if method == "multipart":
        return client.post(url, body, format="multipart", HTTP_IF_MATCH="*")
    if method == "action":
        return client.post(url, body, format="json", HTTP_IF_MATCH="*")
    return getattr(client, method)(url, body, format="json")


def _written():
    return {model.__name__: model.objects.count() for model in (
        Event, EventPhoto, AuditLog, CreditFact, CreditOverride, SensorReading, OfficerPosition, Notice, DispatchRule)}


@pytest.mark.parametrize("name,who,method,url,make_body,foreign_key,field", CASES, ids=[c[0] for c in CASES])
def test_an_id_out_of_sight_is_refused_like_a_missing_one(api, users, world, settings, tmp_path,
                                                          name, who, method, url, make_body, foreign_key, field):
    settings.MEDIA_ROOT = str(tmp_path)
    client = api(users[who])
    before = _written()
    answers = []
    for foreign in (world[foreign_key], MISSING):
        body = {k: _fill(v, world, foreign) for k, v in make_body(world).items()}
        r = _send(client, method, _fill(url, world, foreign), body)
        answers.append((r.status_code, r.json()))
    (seen_status, seen_body), (missing_status, missing_body) = answers
    want = 400 if field else 404
    assert (seen_status, missing_status) == (want, want), answers
    if field:
        assert field in seen_body, seen_body
    # Word for word the same answer: nothing tells the asker that the foreign id exists.
    assert str(seen_body).replace(str(world[foreign_key]), "ID") == str(missing_body).replace(str(MISSING), "ID")
    assert _written() == before, name
