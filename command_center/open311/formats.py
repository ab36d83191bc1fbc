"""Rendering GeoReport v2 documents: XML (required by the spec) and JSON, and the spec's error format.

A document is described once as plain Python (dicts, lists, scalars) and written in either format, so
the two never drift apart. XML needs element names for list items: `ITEM_TAGS` maps a list's element
name to the name of each item (`services` → `service`, `service_requests` → `request`…).
"""
from xml.etree import ElementTree as ET

from django.http import HttpResponse, JsonResponse

FORMATS = ("xml", "json")
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
ITEM_TAGS = {
    "services": "service", "service_requests": "request", "errors": "error", "endpoints": "endpoint",
    "formats": "format", "attributes": "attribute", "values": "value",
}


def _scalar(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value):
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, (list, tuple)):
        item_tag = ITEM_TAGS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, item_tag), item)
    else:
        element.text = _scalar(value)


def to_xml(root: str, value) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    # The spec asks for the declaration with encoding="UTF-8" before the root element.
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode").encode("utf-8")


def _nulls(value):
    """An empty value is null in JSON (clients test for null, not for ""); XML keeps an empty element."""
    if isinstance(value, dict):
        return {name: _nulls(child) for name, child in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nulls(item) for item in value]
    return None if value == "" else value


def respond(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    """`root` is the XML root element; in JSON the value itself is the document (the spec's JSON has no
    root: a list of services / requests / errors, or one object for discovery and a service definition)."""
    if fmt == "json":
        return JsonResponse(_nulls(value), status=status, safe=False, json_dumps_params={"ensure_ascii": False},
                            content_type=CONTENT_TYPES["json"])
    return HttpResponse(to_xml(root, value), status=status, content_type=CONTENT_TYPES["xml"])


def error(fmt: str, status: int, description: str) -> HttpResponse:
    """The spec's error format: <errors><error><code>…</code><description>…</description></error></errors>
    or [{"code": …, "description": …}]. Unknown formats answer in XML, the format the spec requires."""
    fmt = fmt if fmt in FORMATS else "xml"
    return respond(fmt, "errors", [{"code": status, "description": str(description)}], status=status)
