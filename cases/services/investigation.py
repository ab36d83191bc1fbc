"""Investigation (调查取证): starting it, and the append-only evidence with each file's SHA-256."""
import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import EvidenceKind, Status, Step
from cases.models import Case, Evidence
from cases.services.common import _by_handler, _finish, _lock, _setting, _text
from core.exceptions import ValidationFailed


@transaction.atomic
def investigate(actor, case, *, expected_version=None) -> Case:
    case = _lock(actor, case, expected_version, _by_handler(_("开始调查")), (Status.FILED,))
    case.status = Status.INVESTIGATION
    return _finish(case, actor, Step.INVESTIGATE, before=Status.FILED)


EVIDENCE_STATUSES = (Status.FILED, Status.INVESTIGATION, Status.NOTIFIED, Status.LEGAL_REVIEW)


@transaction.atomic
def add_evidence(actor, case, *, file, kind: str, note: str = "", expected_version=None) -> Evidence:
    """Add a file to the evidence (append-only: its SHA-256, who, when)."""
    case = _lock(actor, case, expected_version, _by_handler(_("添加证据")), EVIDENCE_STATUSES)
    if kind not in EvidenceKind.values:
        raise ValidationFailed(fields={"kind": [_("未知的证据类型。")]})
    note = _text(note, "note", required=False, max_length=255)
    size = getattr(file, "size", None) or 0
    if not size:
        raise ValidationFailed(fields={"file": [_("文件为空。")]})
    if size > int(_setting("CASES_EVIDENCE_MAX_BYTES", 50 * 1024 * 1024)):
        raise ValidationFailed(fields={"file": [_("文件过大。")]})
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    name = _text(getattr(file, "name", "") or "evidence", "file", max_length=255)
    now = timezone.now()
    evidence = Evidence.objects.create(case=case, kind=kind, file=file, name=name, size=size,
                                       sha256=digest.hexdigest(), note=note, added_by=actor, added_at=now)
    _finish(case, actor, Step.EVIDENCE, before=case.status, note=note, now=now,
            data={"evidence": evidence.pk, "name": name, "sha256": evidence.sha256, "size": size},
            audit_changes={"evidence": [None, evidence.sha256]})
    return evidence
