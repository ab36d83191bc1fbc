"""The audit log in words: a registry where each app describes its action codes and object kinds.

core imports no app: each app registers its own vocabulary from its AppConfig.ready() (see the apps'
`audit_words.py`), handing over its model classes. The /audit/ page (core.views.audit_log) then shows a
record as "who did what to which object, field: old → new" with labels: the field's verbose name, a
choice's label, the name of a referenced row (looked up once per page for all rows), photos as links.

    audit_words.register_actions({"event.dispatch": _("派遣事件")})
    audit_words.register_object("command_center.event", model=Event, url=lambda pk: ...,
                                fields={"note": _("说明")}, render={"photos": photo_links})  # links, thumbnails

An action code nobody registered reads "<object kind> · <verb>" when its verb is a common one (created,
updated, deleted), else the code itself: a record is never hidden for lack of words.
"""
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import person_name  # the same naming as the timelines'

_actions: dict[str, object] = {}
_kinds: dict[str, "ObjectKind"] = {}

VERBS = {
    "created": gettext_lazy("新建"), "updated": gettext_lazy("修改"), "deleted": gettext_lazy("删除"),
    "saved": gettext_lazy("保存"), "imported": gettext_lazy("导入"),
}


@dataclass
class ObjectKind:
    label: object
    model: type[models.Model] | None = None
    url: Callable[[str], str | None] | None = None
    fields: dict = field(default_factory=dict)   # field name → label (beside the model's verbose names)
    values: dict = field(default_factory=dict)   # field name → {value: label} or a model whose rows are named
    render: dict = field(default_factory=dict)   # field name → fn(value, object_id) → [{"label", "url", "thumb"}]


def register_actions(mapping: dict):
    """{action code: label}; an app calls it once, from its AppConfig.ready()."""
    _actions.update(mapping)


def register_object(object_type: str, *, label=None, model=None, url=None, fields=None, values=None, render=None):
    """Describe one object kind (`object_type` as AuditLog stores it, e.g. "command_center.event")."""
    _kinds[object_type] = ObjectKind(
        label=label if label is not None else (model._meta.verbose_name if model is not None else object_type),
        model=model, url=url, fields=dict(fields or {}), values=dict(values or {}), render=dict(render or {}))


def action_choices() -> list[tuple[str, str]]:
    """(code, label) of every registered action, by label: the page's action picker."""
    return sorted(((code, str(label)) for code, label in _actions.items()), key=lambda pair: pair[1])


def object_choices() -> list[tuple[str, str]]:
    return sorted(((code, str(kind.label)) for code, kind in _kinds.items()), key=lambda pair: pair[1])


def action_label(code: str, object_type: str = "") -> str:
    if code in _actions:
        return str(_actions[code])
    verb = code.rsplit(".", 1)[-1]
    if verb in VERBS:
        kind = _kinds.get(object_type)
        return f"{kind.label if kind else code.rsplit('.', 1)[0]} · {VERBS[verb]}"
    return code


def object_label(object_type: str) -> str:
    kind = _kinds.get(object_type)
    return str(kind.label) if kind else object_type


# --- rendering a page of records ----------------------------------------------------------------

def _model_field(kind: ObjectKind | None, name: str):
    if kind is None or kind.model is None:
        return None
    try:
        return kind.model._meta.get_field(name)
    except Exception:  # FieldDoesNotExist, or a name that is not a field (a note, photos)
        return None


def _field_label(kind, name) -> str:
    if kind is not None and name in kind.fields:
        return str(kind.fields[name])
    f = _model_field(kind, name)
    return str(getattr(f, "verbose_name", name)) if f is not None else name


def _labels_for(kind, name) -> dict | type[models.Model] | None:
    """Where a field's values get their words: a {value: label} map, or the model whose rows they name."""
    if kind is not None and name in kind.values:
        return kind.values[name]
    f = _model_field(kind, name)
    if f is None:
        return None
    if f.is_relation and f.related_model is not None:
        return f.related_model
    if f.choices:
        return dict(f.flatchoices)
    return None


def _short(text: str, limit=300) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _plain(value) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return _("是")
    if value is False:
        return _("否")
    if isinstance(value, (list, dict)):
        return _short(json.dumps(value, ensure_ascii=False))
    return _short(str(value))


def _name_of(row) -> str:
    for attr in ("name", "get_full_name"):
        v = getattr(row, attr, None)
        v = v() if callable(v) else v
        if v:
            return str(v)
    return str(row)


def describe(records) -> list[dict]:
    """The records in words, for one page: referenced rows are looked up once per model for all of them."""
    wanted = defaultdict(set)  # model → ids referenced by the page's changes
    for r in records:
        kind = _kinds.get(r.object_type)
        for name, pair in (r.changes or {}).items():
            source = _labels_for(kind, name)
            if isinstance(source, type) and issubclass(source, models.Model):
                wanted[source].update(v for v in (pair if isinstance(pair, list) else []) if isinstance(v, (int, str)) and v != "")
    names = {}
    for model, ids in wanted.items():
        pks = [i for i in ids if str(i).isdigit()]
        names[model] = {str(pk): _name_of(row) for pk, row in model._default_manager.in_bulk(pks).items()}

    def word(kind, name, value):
        source = _labels_for(kind, name)
        if isinstance(source, dict) and isinstance(value, (str, int)) and value in source:
            return str(source[value])
        if isinstance(source, type) and value not in (None, ""):
            return names.get(source, {}).get(str(value), f"#{value}")
        return _plain(value)

    out = []
    for r in records:
        kind = _kinds.get(r.object_type)
        changes = []
        for name, pair in (r.changes or {}).items():
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            if kind is not None and name in kind.render:
                changes.append({"field": _field_label(kind, name), "links": kind.render[name](new, r.object_id)})
                continue
            changes.append({"field": _field_label(kind, name), "old": word(kind, name, old), "new": word(kind, name, new),
                            "added": old is None})
        url = kind.url(r.object_id) if kind is not None and kind.url is not None and r.object_id.isdigit() else None
        out.append({
            "at": r.at, "who": person_name(r.actor, r.actor_label), "username": r.actor_label,
            "action": action_label(r.action, r.object_type), "code": r.action,
            "kind": object_label(r.object_type), "object": r.object_repr or (f"#{r.object_id}" if r.object_id else ""),
            "object_id": r.object_id, "url": url, "changes": changes, "ip": r.ip,
        })
    return out
