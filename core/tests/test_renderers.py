"""The API's answers are written by orjson and stay DRF's bytes (core.api.renderers)."""
import datetime
import json
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers

from enforcement.choices import Severity
from core.api.renderers import JSONRenderer

SHANGHAI = ZoneInfo("Asia/Shanghai")

CASES = {
    "plain": {"a": 1, "b": [1.5, None, True, False], "文字": "占道经营"},
    "datetimes": {"utc": datetime.datetime(2026, 12, 5, 14, 0, tzinfo=datetime.timezone.utc),
                  "local": datetime.datetime(2026, 12, 5, 22, 0, 0, 123456, tzinfo=SHANGHAI),
                  "naive": datetime.datetime(2026, 12, 5, 22, 0), "date": datetime.date(2026, 12, 5),
                  "time": datetime.time(8, 30, 0, 500)},
    "other types": {"decimal": Decimal("30.274100"), "uuid": uuid.UUID(int=7), "lazy": gettext_lazy("简体中文"),
                    "choice": Severity.BLUE, "tuple": (1, 2), "timedelta": datetime.timedelta(minutes=5),
                    "bytes": b"ok"},
    "keys": {1: "one", None: "none", False: "no"},
    "separators": {"text": "line\u2028next\u2029end"},
    "floats": [0.1, 30.2741, -120.123456789, 1e16, 1.5e300],
    "list": [{"x": 1}, [], {}],
}


@pytest.mark.parametrize("name", CASES)
def test_the_same_bytes_as_drf(name):
    data = CASES[name]
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_a_float_written_with_an_exponent_by_python_is_the_same_number():
    """Python writes 1e-05 where orjson writes 0.00001: another spelling of the same JSON number."""
    data = [1e-05, 2.5e-07]
    assert json.loads(JSONRenderer().render(data)) == json.loads(renderers.JSONRenderer().render(data)) == data


def test_what_orjson_cannot_write_is_drf_answer():
    big = {"n": 2**70}
    assert JSONRenderer().render(big) == renderers.JSONRenderer().render(big) == b'{"n":1180591620717411303424}'


def test_an_indent_asked_for_is_drf_answer():
    data = {"a": [1, 2]}
    assert JSONRenderer().render(data, "application/json; indent=2") == b'{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert JSONRenderer().render(None) == b""


def test_answers_of_the_api_are_rendered_by_it(api, users):
    response = api(users["dispatcher"]).get("/api/v1/command/snapshot/", HTTP_ACCEPT="application/json; indent=2")
    assert response.status_code == 200 and isinstance(response.accepted_renderer, JSONRenderer)
    assert response.content.startswith(b'{\n  "streams"')


def test_a_nan_is_null_not_a_server_error():
    assert JSONRenderer().render({"rate": float("nan")}) == b'{"rate":null}'
    with pytest.raises(ValueError):
        renderers.JSONRenderer().render({"rate": float("nan")})
