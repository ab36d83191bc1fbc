"""Pages of credit: the ranking (榜单, "大综点评") for staff and its public variant. Thin: the reads
live in credit.display."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from core.masking import mask_phone
from core.roles import BUREAU_STAFF, DISPATCHER, OFFICER, TEAM_LEADER, has_role, may_see_phones
from credit import display
from credit.forms import PublicRankingForm, RankingForm

PAGE_SIZE = 50
# People who work with subjects; API clients (other platforms) read the API, not pages.
RANKING_ROLES = (DISPATCHER, TEAM_LEADER, BUREAU_STAFF, OFFICER)


@login_required
def ranking(request):
    """Subjects of the user's areas ordered by score, with trend arrows; phones masked by role."""
    if not has_role(request.user, *RANKING_ROLES):
        raise PermissionDenied
    form = RankingForm(request.GET or None, user=request.user)
    page, f = None, {}
    if form.is_bound and not form.is_valid():
        page = Paginator([], PAGE_SIZE).get_page(1)
    else:
        f = form.cleaned_data if form.is_bound else {}
        qs = display.ranking(request.user, area=f.get("area"), category=f["category"].code if f.get("category") else None,
                             worst_first=(f.get("order") or "worst") == "worst")
        page = Paginator(qs.select_related("category", "category__parent", "grid"), PAGE_SIZE).get_page(request.GET.get("page"))
        show_phone = may_see_phones(request.user)
        subjects = display.with_trends(page.object_list, f.get("days") or 30)
        for i, s in enumerate(subjects):
            s.rank = page.start_index() + i
            s.phone_shown = s.contact_phone if show_phone else mask_phone(s.contact_phone)
        page.object_list = subjects
    return render(request, "credit/ranking.html", {"form": form, "page": page, "days": f.get("days") or 30})


def ranking_public(request):
    """The public ranking: no login, the whole district, only the published colour and trend of each
    business (name, category, street). Switched off with CREDIT_PUBLIC_RANKING = False."""
    if not getattr(settings, "CREDIT_PUBLIC_RANKING", True):
        raise Http404
    form = PublicRankingForm(request.GET or None)
    rows, page, f = [], None, {}
    if form.is_bound and not form.is_valid():
        page = Paginator([], PAGE_SIZE).get_page(1)
    else:
        f = form.cleaned_data if form.is_bound else {}
        qs = display.public_ranking(street=f.get("street"), category=f["category"].code if f.get("category") else None,
                                    worst_first=f.get("order") == "worst")
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = display.public_rows(page.object_list, f.get("days") or 30, page.start_index())
    return render(request, "credit/ranking_public.html", {"form": form, "page": page, "rows": rows,
                                                          "days": f.get("days") or 30})
