"""The power list: problem types (what a citizen reports) and the matter each one routes to."""
from django.db import transaction
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import ValidationFailed
from core.unset import UNCHANGED, given
from enforcement import routing
from enforcement.choices import Severity
from enforcement.models import ProblemType
from enforcement.services.access import require_catalog_editor
from enforcement.services.catalog import CODE_FORMAT_MESSAGE, CODE_RE, known_fields, known_matter_codes

PROBLEM_TYPE_FIELDS = ("code", "name", "matter_code", "default_severity", "group", "about_subject", "description", "active")


def clean_problem_type(data: dict, *, partial=False, known_codes=None) -> dict:
    out, errors = known_fields(data, PROBLEM_TYPE_FIELDS, required=() if partial else ("code", "name", "matter_code"))
    if out.get("code") and not CODE_RE.match(out["code"]):
        errors["code"] = [CODE_FORMAT_MESSAGE]
    if "default_severity" in out and out["default_severity"] not in Severity.values:
        errors["default_severity"] = [_("未知等级：%(default_severity)s（应为 blue/yellow/orange/red）。")
            % {"default_severity": out['default_severity']}]
    if out.get("matter_code"):
        codes = known_codes if known_codes is not None else known_matter_codes()
        if out["matter_code"] not in codes:
            errors["matter_code"] = [_("事项清单中没有事项 %(matter_code)s。") % {"matter_code": out['matter_code']}]
    if errors:
        raise ValidationFailed(fields=errors)
    return out


@transaction.atomic
def save_problem_type(actor, *, code: str, name=UNCHANGED, matter_code=UNCHANGED, default_severity=UNCHANGED,
                      group=UNCHANGED, about_subject=UNCHANGED, description=UNCHANGED,
                      active=UNCHANGED) -> tuple[ProblemType, bool]:
    """Create or update a problem type by code; an update changes the given fields. Returns (problem type, created)."""
    require_catalog_editor(actor)
    current = ProblemType.objects.select_for_update().filter(code=code).first()
    fields = given(name=name, matter_code=matter_code, default_severity=default_severity, group=group,
                   about_subject=about_subject, description=description, active=active)
    data = clean_problem_type({"code": code, **fields}, partial=current is not None)
    if current is None:
        pt = ProblemType.objects.create(**data)
        audit.record(actor, "problem_type.created", pt,
                     changes={k: [None, v] for k, v in audit.snapshot(pt, PROBLEM_TYPE_FIELDS).items()})
        routing.note_change()
        return pt, True
    before = audit.snapshot(current, PROBLEM_TYPE_FIELDS)
    for k, v in data.items():
        setattr(current, k, v)
    delta = audit.diff(before, audit.snapshot(current, PROBLEM_TYPE_FIELDS))
    if delta:
        current.save()
        audit.record(actor, "problem_type.updated", current, changes=delta)
        routing.note_change()
    return current, False
