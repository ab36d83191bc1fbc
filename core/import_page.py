"""The upload → preview → confirm page every app's importer shares.

Core imports no app: an app's page subclasses `ImportPreviewView` and passes its importer in
(`run_import`), its rule for who may import (`may_import`) and its form. The previewed bytes travel back
with the confirm form, so what is written is exactly what was previewed.
"""
import base64

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
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

    def dispatch(self, request, *args, **kwargs):
        # Anonymous users fall through to LoginRequiredMixin (a redirect to the login page).
        if request.user.is_authenticated and not self.may_import(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form, **context):
        return render(self.request, self.template_name, {"form": form, **context})

    def get(self, request):
        return self.render_page(self.form_class())

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
            form.add_error("file", error_text(exc))
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
            messages.success(request, _("已导入：新增 %(c)d，更新 %(u)d，未变 %(n)d。") % {
                "c": report.created, "u": report.updated, "n": report.unchanged})
            return redirect(self.success_url)
        return self.render_page(self.form_class(), report=report)
