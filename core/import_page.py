"""The upload → preview → confirm page every app's importer shares.

Core imports no app: an app's page subclasses `ImportPreviewView` and passes its importer in
(`run_import`), its rule for who may import (`may_import`) and its form. The previewed bytes travel back
with the confirm form, so what is written is exactly what was previewed.
"""
import base64

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.exceptions import DomainError


def error_text(exc: DomainError) -> str:
    """A domain error as one line for a message or a form error."""
    return "；".join(" ".join(map(str, v)) for v in exc.fields.values()) if exc.fields else exc.message


class ImportPreviewView(LoginRequiredMixin, View):
    template_name = ""   # extends core/import.html
    form_class = None    # fields: kind, file (and skip_invalid when the importer can skip bad rows)
    success_url = ""     # URL name to return to after writing

    def may_import(self, user) -> bool:
        raise NotImplementedError

    def run_import(self, user, kind: str, data: bytes, filename: str, *, dry_run: bool, skip_invalid: bool):
        """Call the app's importer; returns a core.tabular.ImportReport."""
        raise NotImplementedError

    def succeeded(self, report) -> bool:
        return report.ok

    def blank_templates(self) -> dict:
        """{kind: label} of the imports offering a blank template to fill in (all of them, by default)."""
        return dict(self.form_class.base_fields["kind"].choices)

    def template_file(self, kind: str, fmt: str) -> tuple[bytes, str]:
        """(content, file name) of the blank template of `kind` in `fmt` ("csv" or "xlsx")."""
        raise NotImplementedError

    def template_formats(self, kind: str) -> tuple:
        return ("xlsx", "csv")

    def dispatch(self, request, *args, **kwargs):
        # Anonymous users fall through to LoginRequiredMixin (a redirect to the login page).
        if request.user.is_authenticated and not self.may_import(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form, status=200, **context):
        templates = [(kind, label, self.template_formats(kind)) for kind, label in self.blank_templates().items()]
        return render(self.request, self.template_name, {"form": form, "blank_templates": templates, **context},
                      status=status)

    def get(self, request):
        if "template" in request.GET:
            return self.download_template(request.GET["template"], request.GET.get("format", "xlsx"))
        return self.render_page(self.form_class())

    def download_template(self, kind, fmt):
        if kind not in self.blank_templates() or fmt not in self.template_formats(kind):
            raise Http404
        content, filename = self.template_file(kind, fmt)
        ctype = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[fmt]
        response = HttpResponse(content, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def add_domain_error(self, form, exc: DomainError):
        """A refused file as form errors, each under its own field (a missing column under the file, an
        unknown kind under the kind), the rest on top."""
        for field, errors in (exc.fields or {}).items():
            for error in errors:
                form.add_error(field if field in form.fields else None, str(error))
        if not exc.fields:
            form.add_error(None, exc.message)

    def post(self, request):
        if "confirm" in request.POST:
            return self.confirm(request)
        form = self.form_class(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(form)
        upload, kind = form.cleaned_data["file"], form.cleaned_data["kind"]
        skip_invalid = bool(form.cleaned_data.get("skip_invalid"))
        data = upload.read()
        try:
            report = self.run_import(request.user, kind, data, upload.name, dry_run=True, skip_invalid=skip_invalid)
        except DomainError as exc:
            self.add_domain_error(form, exc)
            return self.render_page(form)
        return self.render_page(form, report=report, payload=base64.b64encode(data).decode(), filename=upload.name,
                                kind=kind, skip_invalid=skip_invalid)

    def confirm(self, request):
        try:
            data = base64.b64decode(request.POST.get("payload", ""), validate=True)
        except ValueError:
            data = b""
        try:
            report = self.run_import(request.user, request.POST.get("kind", ""), data, request.POST.get("filename", ""),
                                     dry_run=False, skip_invalid=request.POST.get("skip_invalid") == "on")
        except DomainError as exc:
            messages.error(request, error_text(exc))
            return redirect(self.success_url)
        if self.succeeded(report):
            messages.success(request, _("已导入：新增 %(c)d，更新 %(u)d，未变 %(n)d，跳过错误行 %(s)d。") % {
                "c": report.created, "u": report.updated, "n": report.unchanged, "s": report.skipped})
            return redirect(self.success_url)
        return self.render_page(self.form_class(), report=report)
