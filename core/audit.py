"""Writing audit records. Services call `record()` inside their transaction, so the record and the
change commit or roll back together."""
from datetime import date, datetime
from decimal import Decimal

from django.db import models

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


def record(actor, action: str, obj=None, *, changes=None, object_type=None, object_id=None, object_repr=None):
    label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        label = actor.get_username()
    elif actor is None:
        label = "system"
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=label,
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=str(object_id if object_id is not None else getattr(obj, "pk", "")),
        object_repr=(object_repr if object_repr is not None else str(obj) if obj is not None else "")[:255],
        changes={k: [_plain(v[0]), _plain(v[1])] for k, v in (changes or {}).items()},
        ip=current_ip.get(),
    )
