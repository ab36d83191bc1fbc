"""Pages of casework: the queue, a case with the forms of its next steps, the public disclosure list.
Thin: reads from cases.selectors, every step through cases.services (which checks role, street,
order and the version the page showed)."""
from dataclasses import dataclass
from typing import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases import forms, selectors, services
from cases.choices import DECIDED_STATUSES, Origin, PartyKind, Procedure, Status
from core.exceptions import DomainError, NotFound, ValidationFailed
from core.masking import mask_personal_text
from core.roles import BUREAU_STAFF, DISPATCHER, OFFICER, TEAM_LEADER, has_role
from grids import selectors as grid_selectors
from grids.choices import AreaKind

PAGE_SIZE = 50
CASE_ROLES = (OFFICER, TEAM_LEADER, BUREAU_STAFF, DISPATCHER)


@dataclass(frozen=True)
class PageAction:
    label: str
    statuses: tuple
    roles: tuple  # who sees the form (the service decides)
    form: Callable  # (case, data, files) -> form
    call: Callable  # (user, case, form, version) -> None


def _outcomes_form(case, data=None, files=None):
    return forms.OutcomesForm(data, matters=list(case.matters.all()), initial={"version": case.version})


def _simple(form_class):
    return lambda case, data=None, files=None: form_class(data, files, initial={"version": case.version})


ACTIONS = {
    "investigate": PageAction(gettext_lazy("开始调查"), (Status.FILED,), (OFFICER,), _simple(forms.StepForm),
                              lambda u, c, f, v: services.investigate(u, c, expected_version=v)),
    "evidence": PageAction(gettext_lazy("添加证据"), services.EVIDENCE_STATUSES, (OFFICER,), _simple(forms.EvidenceForm),
                           lambda u, c, f, v: services.add_evidence(u, c, file=f.cleaned_data["file"],
                                                                    kind=f.cleaned_data["kind"],
                                                                    note=f.cleaned_data["note"], expected_version=v)),
    "submit": PageAction(gettext_lazy("提交审核"), (Status.INVESTIGATION,), (OFFICER,), _outcomes_form,
                         lambda u, c, f, v: services.submit(u, c, outcomes=f.outcomes(), note=f.cleaned_data["note"],
                                                            expected_version=v)),
    "approve": PageAction(gettext_lazy("审核通过"), (Status.REVIEW,), (TEAM_LEADER,), _simple(forms.NoteForm),
                          lambda u, c, f, v: services.approve(u, c, note=f.cleaned_data["note"], expected_version=v)),
    "return": PageAction(gettext_lazy("退回重办"), (Status.REVIEW,), (TEAM_LEADER,), _simple(forms.ReasonForm),
                         lambda u, c, f, v: services.return_case(u, c, reason=f.cleaned_data["reason"],
                                                                 expected_version=v)),
    "notify": PageAction(gettext_lazy("事先告知"), (Status.APPROVED,), (OFFICER,), _simple(forms.StepForm),
                         lambda u, c, f, v: services.notify(u, c, expected_version=v)),
    "statement": PageAction(gettext_lazy("记录陈述申辩"), (Status.NOTIFIED,), (OFFICER,), _simple(forms.StatementForm),
                            lambda u, c, f, v: services.record_statement(
                                u, c, statement=f.cleaned_data["statement"], adopted=f.cleaned_data["adopted"],
                                expected_version=v)),
    "hearing": PageAction(gettext_lazy("记录听证"), (Status.NOTIFIED,), (OFFICER,), _simple(forms.HearingForm),
                          lambda u, c, f, v: services.record_hearing(u, c, held_on=f.cleaned_data["held_on"],
                                                                     summary=f.cleaned_data["summary"],
                                                                     expected_version=v)),
    "request-legal-review": PageAction(gettext_lazy("提交法制审核"), (Status.NOTIFIED,), (OFFICER,),
                                       _simple(forms.StepForm),
                                       lambda u, c, f, v: services.request_legal_review(u, c, expected_version=v)),
    "legal-review": PageAction(gettext_lazy("法制审核意见"), (Status.LEGAL_REVIEW,), (BUREAU_STAFF,),
                               _simple(forms.LegalReviewForm),
                               lambda u, c, f, v: services.legal_review(u, c, opinion=f.cleaned_data["opinion"],
                                                                        reasons=f.cleaned_data["reasons"],
                                                                        expected_version=v)),
    "decide": PageAction(gettext_lazy("作出决定"), (Status.FILED, Status.INVESTIGATION, Status.NOTIFIED,
                                                  Status.LEGAL_REVIEW), (TEAM_LEADER, OFFICER), _outcomes_form,
                         lambda u, c, f, v: services.decide(u, c, outcomes=f.outcomes(),
                                                            decision_text=f.cleaned_data["note"], expected_version=v)),
    "serve": PageAction(gettext_lazy("送达"), (Status.DECIDED,), (OFFICER,), _simple(forms.ServeForm),
                        lambda u, c, f, v: services.serve(u, c, method=f.cleaned_data["method"], expected_version=v)),
    "execute": PageAction(gettext_lazy("登记执行"), (Status.SERVED,), (OFFICER,), _simple(forms.RequiredNoteForm),
                          lambda u, c, f, v: services.execute(u, c, note=f.cleaned_data["note"], expected_version=v)),
    "close": PageAction(gettext_lazy("结案"), (Status.SERVED, Status.EXECUTED), (TEAM_LEADER,), _simple(forms.NoteForm),
                        lambda u, c, f, v: services.close(u, c, note=f.cleaned_data["note"], expected_version=v)),
    "transfer": PageAction(gettext_lazy("移送"), services.TRANSFER_STATUSES, (TEAM_LEADER,), _simple(forms.TransferForm),
                           lambda u, c, f, v: services.transfer(
                               u, c, target=f.cleaned_data["target"], reason=f.cleaned_data["reason"],
                               to_street_code=f.cleaned_data["to_street"],
                               to_department_code=f.cleaned_data["to_department"], expected_version=v)),
    "accept-transfer": PageAction(gettext_lazy("接收或拒绝移送"), tuple(Status), (TEAM_LEADER, BUREAU_STAFF),
                                  _simple(forms.AcceptTransferForm),
                                  lambda u, c, f, v: services.answer_transfer(
                                      u, c, accept=f.cleaned_data["accept"], note=f.cleaned_data["note"],
                                      handler_ids=f.cleaned_data["handler_ids"], expected_version=v)),
    "appeal": PageAction(gettext_lazy("登记复议/申诉"), DECIDED_STATUSES, (TEAM_LEADER, BUREAU_STAFF),
                         _simple(forms.AppealForm),
                         lambda u, c, f, v: services.appeal(u, c, kind=f.cleaned_data["kind"],
                                                            grounds=f.cleaned_data["grounds"], expected_version=v)),
    "appeal-decision": PageAction(gettext_lazy("复议/申诉结果"), DECIDED_STATUSES, (TEAM_LEADER, BUREAU_STAFF),
                                  _simple(forms.AppealDecisionForm),
                                  lambda u, c, f, v: services.decide_appeal(u, c, result=f.cleaned_data["result"],
                                                                            note=f.cleaned_data["note"],
                                                                            expected_version=v)),
    "quality-review": PageAction(gettext_lazy("案卷评查"), (Status.CLOSED,), (BUREAU_STAFF,),
                                 lambda case, data=None, files=None: forms.QualityReviewForm(
                                     data, items=selectors.checklist(), initial={"version": case.version}),
                                 lambda u, c, f, v: services.quality_review(u, c, scores=f.scores(),
                                                                            comment=f.cleaned_data["comment"],
                                                                            expected_version=v)),
}


def _visible(user, case, name, action, *, pending, appeal_open) -> bool:
    """Forms worth showing: the step may follow the status and the user has a role that takes it."""
    if case.status not in action.statuses or not has_role(user, *action.roles):
        return False
    if name == "accept-transfer":
        return pending
    if pending:
        return False
    if name == "appeal-decision":
        return appeal_open
    if name == "appeal":
        return not appeal_open
    if name == "decide":
        simple = case.procedure == Procedure.SIMPLE
        return (case.status in (Status.FILED, Status.INVESTIGATION)) == simple
    return True


def _require_case_role(user):
    if not has_role(user, *CASE_ROLES):
        raise PermissionDenied


@login_required
def queue(request):
    """The case queue of the user's streets: each case's step deadline, overdue ones flagged."""
    _require_case_role(request.user)
    form = forms.QueueForm(request.GET or None)
    f = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = selectors.queue_for(request.user, status=f.get("status") or None, overdue=True if f.get("overdue") else None)
    page = Paginator(qs.prefetch_related("matters__matter"), PAGE_SIZE).get_page(request.GET.get("page"))
    for case in page.object_list:
        case.party_shown = selectors.party_label(case, full=False)
    return render(request, "cases/queue.html", {"form": form, "page": page,
                                                "due_soon": set(qs.filter(selectors.due_soon_q()).values_list(
                                                    "pk", flat=True)[:500])})


FILING_ROLES = services.FILING_ROLES


@login_required
def file_case(request):
    """File a case directly (立案); errors beside the form, nothing written."""
    if not has_role(request.user, *FILING_ROLES):
        raise PermissionDenied
    streets = grid_selectors.area_list_for(request.user).filter(kind=AreaKind.STREET).defer("boundary")
    officers = grid_selectors.officers_for(request.user).select_related("team")
    subject_id = request.GET.get("subject")
    subject_id = int(subject_id) if str(subject_id).isdigit() else None
    findings = selectors.findings_to_file(request.user, subject_id=subject_id)
    form = forms.FileCaseForm(request.POST or None, streets=streets, officers=officers, findings=findings,
                              initial={"finding": request.GET.get("finding", ""), "subject": subject_id or ""})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            origin = {"origin": Origin.FINDING, "finding": d["finding"]} if d.get("finding") else {}
            try:
                if origin and (d.get("subject") or d.get("street")):
                    raise ValidationFailed(fields={"finding": [_("从检查发现立案时由检查发现带出管理对象和镇街，不能另填。")]})
                subject = grid_selectors.get_subject_for(request.user, d["subject"]) if d.get("subject") else None
                case = services.file_case(
                    request.user, party_kind=d["party_kind"], subject=subject, street=d.get("street"),
                    person_name=d["person_name"], person_id_number=d["person_id_number"],
                    person_phone=d["person_phone"], matter_codes=d["matter_codes"], facts=d["facts"],
                    facts_on=d["facts_on"], handler_ids=[o.pk for o in d["handlers"]], procedure=d["procedure"],
                    **origin)
            except DomainError as exc:
                status = exc.status_code
                if origin and not exc.fields:  # the finding not found, or filed already (one case per finding)
                    exc = ValidationFailed(fields={"finding": [exc.message]})
                _form_errors(form, exc)
            else:
                messages.success(request, _("已立案：%(n)s。") % {"n": case.number})
                return redirect("cases:detail", case_id=case.pk)
    return render(request, "cases/file.html", {"form": form}, status=status)


def _form_errors(form, exc: DomainError):
    """A service's refusal shown on the form: beside the field it names, else above the form."""
    aliases = {"handler_ids": "handlers"}
    for field, errors in (exc.fields or {None: [exc.message]}).items():
        name = aliases.get(field, field)
        for message in errors if isinstance(errors, list) else [errors]:
            if name in form.fields:
                form.add_error(name, message)
            else:
                form.add_error(None, f"{field}: {message}" if field else message)


def _detail_context(request, case, forms_by_name=None):
    full = selectors.may_see_person(request.user, case)
    for record in case.records.all():  # phones, ID numbers and plates in notes: in full for the handlers only
        record.note_shown = record.note if full else mask_personal_text(record.note)
    actions = []
    pending, appeal_open = selectors.pending_transfer(case) is not None, selectors.open_appeal(case) is not None
    for name, action in ACTIONS.items():
        if _visible(request.user, case, name, action, pending=pending, appeal_open=appeal_open):
            form = (forms_by_name or {}).get(name) or action.form(case)
            actions.append({"name": name, "label": action.label, "form": form,
                            "multipart": name == "evidence"})
    return {"case": case, "full": full, "actions": actions,
            "party": selectors.party_label(case, full=full),
            "facts": case.facts if full else mask_personal_text(case.facts),
            "person_id": case.person_id_number if full else selectors.mask(case.person_id_number),
            "person_phone": case.person_phone if full else selectors.mask(case.person_phone),
            "documents": [("notice", _("告知书")), ("decision", _("决定书")), ("file", _("案卷"))]}


@login_required
def detail(request, case_id):
    _require_case_role(request.user)
    try:
        case = selectors.get_case_for(request.user, case_id, detail=True)
    except NotFound:
        raise Http404 from None
    if case.party_kind == PartyKind.PERSON and selectors.may_see_person(request.user, case):
        services.record_view(request.user, case, what=_("查看当事人个人信息（页面）"))
    return render(request, "cases/detail.html", _detail_context(request, case))


@login_required
@require_POST
def act(request, case_id, name):
    """One step from the case page; errors are shown beside its form, nothing is changed."""
    _require_case_role(request.user)
    action = ACTIONS.get(name)
    try:
        case = selectors.get_case_for(request.user, case_id, detail=True)
    except NotFound:
        raise Http404 from None
    if action is None:
        raise Http404
    form = action.form(case, request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            action.call(request.user, case, form, form.cleaned_data["version"])
        except DomainError as exc:
            status = exc.status_code
            _form_errors(form, exc)
        else:
            messages.success(request, _("已完成：%(a)s。") % {"a": action.label})
            return redirect("cases:detail", case_id=case.pk)
    case = selectors.get_case_for(request.user, case_id, detail=True)
    context = _detail_context(request, case, {name: form})
    if not any(a["name"] == name for a in context["actions"]):
        context["actions"].insert(0, {"name": name, "label": action.label, "form": form, "multipart": name == "evidence"})
    return render(request, "cases/detail.html", context, status=status)


def disclosures(request):
    """执法公示: public, no login; a business by name, a private person never."""
    page = Paginator(selectors.disclosures(), PAGE_SIZE).get_page(request.GET.get("page"))
    for case in page.object_list:
        case.party_shown = case.subject.name if case.party_kind == PartyKind.BUSINESS and case.subject_id else _("个人")
    return render(request, "cases/disclosures.html", {"page": page})
