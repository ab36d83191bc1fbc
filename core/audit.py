"""Writing audit records. Services call `record()` inside their transaction, so the record and the
change commit or roll back together."""
from datetime import date, datetime
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext as _

from core import bulk
from core.context import current_ip
from core.models import AuditLog


def _plain(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def snapshot(obj, fields) -> dict:
    """The values of `fields` on `obj`, as JSON-safe plain values (FKs as ids)."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            out[name] = sorted(obj.pk and getattr(obj, name).values_list("pk", flat=True) or [])
        elif field.is_relation:
            out[name] = getattr(obj, field.attname)
        else:
            out[name] = _plain(getattr(obj, name))
    return out


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields that changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def actor_label(actor) -> str:
    """How a record names who acted: the username, "system" for the platform itself (None), else ""."""
    if actor is None:
        return "system"
    return actor.get_username() if getattr(actor, "is_authenticated", False) else ""


def person_name(actor, label: str = "") -> str:
    """How a page names who acted, in words: the person's name (full name, else the username); the
    platform itself (no actor, recorded as "system") is "系统", an anonymous visitor (a failed login)
    "匿名访问者"; a deleted account keeps its recorded label."""
    if actor is not None:
        return actor.get_full_name().strip() or actor.get_username()
    if label == "system":
        return _("系统")
    return label or _("匿名访问者")


def record(actor, action: str, obj=None, *, changes=None, object_type=None, object_id=None, object_repr=None):
    (entry,) = bulk.insert_objects([AuditLog(  # a plain INSERT: it follows most writes (append-only, no signals)
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label(actor),
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=str(object_id if object_id is not None else getattr(obj, "pk", "")),
        object_repr=(object_repr if object_repr is not None else str(obj) if obj is not None else "")[:255],
        changes={k: [_plain(v[0]), _plain(v[1])] for k, v in (changes or {}).items()},
        ip=current_ip.get(),
    )])
    return entry


def record_many(actor, action: str, entries, *, at) -> int:
    """One record per (obj, changes) of `entries`, as `record` writes them, in as few INSERTs as the
    database allows and without model instances: for a batch job (the SLA sweep writes one per fired
    deadline) where building instances was most of the cost. Returns how many were written."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    label, ip = actor_label(actor), current_ip.get()
    rows = [(at, user.pk if user else None, label, action, obj._meta.label_lower, str(obj.pk), str(obj)[:255],
             {k: [_plain(v[0]), _plain(v[1])] for k, v in (changes or {}).items()}, ip)
            for obj, changes in entries]
    bulk.insert_rows(AuditLog, ("at", "actor", "actor_label", "action", "object_type", "object_id", "object_repr",
                                "changes", "ip"), rows)
    return len(rows)
