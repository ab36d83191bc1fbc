"""The page of appeals against a credit colour (/color-appeals/): lodge one, decide the open ones.
Thin: reads from cases.selectors, writes through cases.services (which check role and areas)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import forms, selectors, services
from cases.choices import AppealResult
from cases.services.color_appeals import APPEAL_ROLES
from cases.views import _form_errors
from core.exceptions import DomainError, NotFound
from core.roles import has_role
from credit.models import CreditFact

LIMIT = 200


def _require_role(user):
    if not has_role(user, *APPEAL_ROLES):
        raise PermissionDenied


def _page(request, form, decision_forms=None, status=200):
    appeals = list(selectors.color_appeals_for(request.user).order_by("result", "-lodged_at", "-id")[:LIMIT])
    facts = CreditFact.objects.in_bulk({i for a in appeals for i in a.fact_ids})
    for a in appeals:
        a.facts = [facts[i] for i in a.fact_ids if i in facts]
        if a.result == AppealResult.PENDING:
            a.form = (decision_forms or {}).get(a.pk) or forms.ColorAppealDecisionForm(facts=a.facts)
    return render(request, "cases/color_appeals.html", {"form": form, "appeals": appeals}, status=status)


@login_required
def color_appeals(request):
    """The appeals of the subjects in the user's areas, and the form to lodge one (?subject= fills it)."""
    _require_role(request.user)
    if request.method != "POST":
        return _page(request, forms.ColorAppealForm(initial={"subject": request.GET.get("subject", "")}))
    form = forms.ColorAppealForm(request.POST)
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.appeal_color(request.user, d["subject"], kind=d["kind"], grounds=d["grounds"],
                                  lodged_on=d.get("lodged_on"))
        except DomainError as exc:
            status = 400 if isinstance(exc, NotFound) else exc.status_code  # a subject outside the areas: unknown
            _form_errors(form, exc)
        else:
            messages.success(request, _("已登记信用颜色复议/申诉。"))
            return redirect("cases:color_appeals")
    return _page(request, form, status=status)


@login_required
@require_POST
def decide_color_appeal(request, appeal_id):
    _require_role(request.user)
    try:
        item = selectors.get_color_appeal_for(request.user, appeal_id)
    except NotFound:
        raise Http404 from None
    facts = list(CreditFact.objects.filter(pk__in=item.fact_ids))
    form = forms.ColorAppealDecisionForm(request.POST, facts=facts)
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.decide_color_appeal(request.user, item.pk, result=d["result"], note=d["note"],
                                         withdraw_fact_ids=d["withdraw_fact_ids"])
        except DomainError as exc:
            status = exc.status_code
            _form_errors(form, exc)
        else:
            messages.success(request, _("已记录复议/申诉结果。"))
            return redirect("cases:color_appeals")
    return _page(request, forms.ColorAppealForm(), {item.pk: form}, status=status)
