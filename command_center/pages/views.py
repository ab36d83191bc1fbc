"""Pages of the command center beyond the desk: the review queue (/review/), the events' history
(/events/) and the subject's file (/subjects/{id}/). Thin: the queue, the filters, the file and every
write come from review_queue, api.filters, subject_file and the services."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from command_center import review_queue, selectors, subject_file
from command_center.api.filters import EventFilter
from command_center.choices import Severity, Status
from command_center.dashboard.selectors import problem_types, streets_for
from command_center.services import review
from core.exceptions import DomainError, Forbidden, NotFound
from core.masking import mask_phone
from core.roles import API_CLIENT, has_role, may_see_phones
from core.tabular import write_table

ACTIONS = {"approve": review.approve, "return": review.return_for_rework}


@login_required
@require_http_methods(["GET", "POST"])
def review_page(request):
    """待我审核: the leader's queue, oldest deadline first; handled events are approved or returned here."""
    if not review_queue.may_review(request.user):
        raise PermissionDenied(_("只有执法队长或区综合执法局工作人员有待审核事项。"))
    if request.method == "POST":
        return _review_act(request)
    items = review_queue.items_for_request(request)
    events = {e.pk: e for e in selectors.events_for(request.user).filter(
        pk__in=[i.id for i in items if i.kind == "event"]).prefetch_related("officer")}
    rows = [{"item": i, "event": events.get(i.id) if i.kind == "event" else None} for i in items]
    return render(request, "command_center/review.html", {"rows": rows, "now": timezone.now()})


def _review_act(request):
    action = request.POST.get("action")
    fn = ACTIONS.get(action)
    if fn is None:
        messages.error(request, _("未知的审核操作。"))
        return redirect("review")
    try:
        version = int(request.POST.get("version") or 0) or None
        event = selectors.get_event_for(request.user, request.POST.get("event"))
        if action == "approve":
            fn(request.user, event, expected_version=version, note=request.POST.get("note", ""))
            messages.success(request, _("事件 #%(id)s 审核通过，已办结。") % {"id": event.pk})
        else:
            fn(request.user, event, request.POST.get("reason", ""), expected_version=version)
            messages.success(request, _("事件 #%(id)s 已退回重办。") % {"id": event.pk})
    except (ValueError, TypeError):
        messages.error(request, _("版本号无效，请刷新后重试。"))
    except NotFound:
        raise Http404(_("事件不存在。"))
    except Forbidden as exc:
        raise PermissionDenied(exc.message)
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("review")


HISTORY_COLUMNS = ["ID", "受理时间", "办结时间", "镇街", "问题类型", "涉及对象", "处置人", "等级", "状态", "处置结果", "满意度",
                   "上报人电话"]


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


@login_required
def event_history(request):
    """The events' history: closed ones stay findable, by date range, street, problem type, subject,
    officer and result, scoped by the user's areas; exported as CSV or XLSX (phones masked by role)."""
    if has_role(request.user, API_CLIENT) and not request.user.is_superuser:
        raise PermissionDenied(_("外部平台请使用 API。"))
    params = request.GET.copy()
    if "status" not in params:
        params.setlist("status", [Status.CLOSED])
    if params.getlist("status") == ["all"]:
        params.pop("status")
    filtered = EventFilter(params, queryset=selectors.events_for(request.user).prefetch_related("officer", "subject"))
    if not filtered.is_valid():
        return render(request, "command_center/history.html", _history_context(request, filtered, None), status=400)
    qs = filtered.qs.order_by("-created_at", "-id")
    show_phone = may_see_phones(request.user)
    fmt = request.GET.get("export")
    if fmt in ("csv", "xlsx"):
        rows = ([e.pk, _local(e.created_at), _local(e.closed_at), e.street.name if e.street_id else "",
                 e.problem_type_name or e.problem_type_code, e.subject.name if e.subject_id else "",
                 e.officer.name if e.officer_id else "", e.get_severity_display(), e.get_status_display(), e.result,
                 e.satisfaction, e.reporter_phone if show_phone else mask_phone(e.reporter_phone)]
                for e in qs.iterator(chunk_size=500))
        content = write_table(fmt, [_(c) for c in HISTORY_COLUMNS], rows)
        ctype = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(content, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="events.{fmt}"'
        return response
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "command_center/history.html", _history_context(request, filtered, page))


def _history_context(request, filtered, page):
    return {"page": page, "errors": filtered.errors if page is None else {}, "params": request.GET,
            "streets": streets_for(request.user), "problem_types": problem_types(),
            "statuses": Status.choices, "severities": Severity.choices,
            "status_values": request.GET.getlist("status") or [Status.CLOSED]}


@login_required
def subject_file_page(request, pk):
    """一户一档: the subject's file (404 outside the user's areas)."""
    try:
        data = subject_file.file_for(request.user, pk)
    except NotFound:
        raise Http404(_("管理对象不存在。"))
    return render(request, "command_center/subject_file.html", {"file": data})
