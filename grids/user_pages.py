"""The user page (/users/): bureau staff bound to the district list, create and edit accounts (role, areas),
deactivate them and reset their passwords. Thin: the rules (who may, which areas, no self-escalation, the
audit) live in grids.accounts."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.exceptions import DomainError, Forbidden, NotFound
from core.roles import ROLE_LABELS
from grids import accounts, selectors
from grids.forms import PasswordResetForm, UserFilterForm, UserForm
from grids.models import Area


def _editor(request):
    if not accounts.may_manage_users(request.user):
        raise PermissionDenied
    return request.user


def _target(request, pk):
    try:
        return accounts.get_user_for(request.user, pk)
    except NotFound:
        raise Http404


def _roles():
    return [(k, str(v)) for k, v in ROLE_LABELS.items()]


def _areas(editor, bound=()):
    """The areas the editor may hand out (a micro-grid only where the user already holds one)."""
    kinds = selectors.scope(Area.objects.filter(kind__in=accounts.USER_AREA_KINDS), editor, "path")
    held = selectors.scope(Area.objects.filter(pk__in=[a.pk for a in bound]), editor, "path")
    return (kinds | held).defer("boundary").order_by("path")


def _apply_errors(form, exc):
    """A refused change as form errors: under its field where the form has one, else on top."""
    for field, errors in (exc.fields or {}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


@login_required
def user_list(request):
    editor = _editor(request)
    form = UserFilterForm(request.GET or None, areas=_areas(editor).exclude(kind="district"), roles=_roles())
    f = form.cleaned_data if form.is_bound and form.is_valid() else {}
    active = {"yes": True, "no": False}.get(f.get("active") or "")
    qs = accounts.users_for(editor, role=f.get("role") or None, area=f.get("area"), active=active)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    labels = dict(_roles())
    for u in page:
        u.role_label = ", ".join(labels.get(g.name, g.name) for g in u.groups.all())
        u.area_names = "、".join(m.area.name for m in u.area_memberships.all())
    return render(request, "grids/users/list.html", {"form": form, "page": page}, status=400 if form.errors else 200)


@never_cache
@login_required
def user_create(request):
    editor = _editor(request)
    form = UserForm(request.POST or None, areas=_areas(editor), roles=_roles())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user, generated = accounts.create_user(editor, username=d["username"], display_name=d["display_name"],
                                                   role=d["role"], areas=d["areas"], password=d["password"] or None)
        except Forbidden:
            raise PermissionDenied
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            if generated:  # shown once, on this answer only: never in a redirect, a message or the log
                return render(request, "grids/users/password.html", {"target": user, "password": generated})
            messages.success(request, _("用户 %(name)s 已创建。") % {"name": user.username})
            return redirect("user-edit", pk=user.pk)
    return render(request, "grids/users/form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def user_edit(request, pk):
    editor = _editor(request)
    target = _target(request, pk)
    bound = [m.area for m in target.area_memberships.select_related("area")]
    initial = {"display_name": target.first_name, "role": accounts.role_of(target), "areas": [a.pk for a in bound]}
    form = UserForm(request.POST or None, initial=initial, areas=_areas(editor, bound), roles=_roles(), editing=True)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            accounts.update_user(editor, target, display_name=d["display_name"], role=d["role"], areas=d["areas"])
        except Forbidden as exc:
            _apply_errors(form, exc)
            return render(request, "grids/users/form.html", {"form": form, "target": target,
                                                             "reset_form": PasswordResetForm()}, status=403)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("用户 %(name)s 已保存。") % {"name": target.username})
            return redirect("user-edit", pk=target.pk)
    return render(request, "grids/users/form.html", {"form": form, "target": target, "reset_form": PasswordResetForm()},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def user_set_active(request, pk):
    editor = _editor(request)
    target = _target(request, pk)
    active = request.POST.get("active") == "yes"
    try:
        accounts.set_active(editor, target, active=active)
    except Forbidden as exc:
        messages.error(request, exc.message)
        return redirect("user-edit", pk=target.pk)
    messages.success(request, (_("用户 %(name)s 已启用。") if active else _("用户 %(name)s 已停用。")) % {"name": target.username})
    return redirect("user-edit", pk=target.pk)


@never_cache
@login_required
@require_POST
def user_reset_password(request, pk):
    editor = _editor(request)
    target = _target(request, pk)
    form = PasswordResetForm(request.POST)
    if form.is_valid():
        try:
            generated = accounts.reset_password(editor, target, password=form.cleaned_data["password"] or None)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            if generated:
                return render(request, "grids/users/password.html", {"target": target, "password": generated})
            messages.success(request, _("用户 %(name)s 的密码已重设。") % {"name": target.username})
            return redirect("user-edit", pk=target.pk)
    bound = [m.area for m in target.area_memberships.select_related("area")]
    user_form = UserForm(initial={"display_name": target.first_name, "role": accounts.role_of(target),
                                  "areas": [a.pk for a in bound]}, areas=_areas(editor, bound), roles=_roles(), editing=True)
    return render(request, "grids/users/form.html", {"form": user_form, "target": target, "reset_form": form}, status=400)
