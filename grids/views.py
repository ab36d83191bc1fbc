"""HTML pages of the registry: thin, the rules live in services/selectors."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from core import script_text
from core.import_page import ImportPreviewView
from core.masking import mask_phone
from core.roles import BUREAU_STAFF, has_role, may_see_phones
from grids import basemap as offline_basemap
from grids import importers, selectors
from grids.api.filters import SubjectFilter
from grids.forms import ImportForm, SubjectListForm
from grids.listing import subject_columns
from grids.models import SubjectCategory


@login_required
def map_page(request):
    config = {
        "areasUrl": reverse("areas-geojson"),
        "pointsUrl": reverse("subject-points"),
        "colorsUrl": reverse("credit-colors"),
        "subjectUrl": reverse("subject-detail", kwargs={"pk": 0}).replace("/0/", "/{id}/"),
        # The subject's file (一户一档) is a page of a higher app: linked when it is installed.
        "fileUrl": _optional_url("subject-file", pk=0).replace("/0/", "/{id}/"),
        "tileUrl": settings.MAP_TILE_URL,
        "basemapUrl": reverse("map-basemap"),
        "messages": script_text.pick(script_text.MAP),
    }
    return render(request, "grids/map.html", {"config": config})


@login_required
def basemap(request):
    """The offline base map (roads, rivers, parks, landmarks of the demo district) as GeoJSON: what the
    maps draw under the boundaries when no tile service is configured (MAP_TILE_URL empty). Public
    geography, the same for every signed-in user; cached by the browser for a day."""
    response = JsonResponse(offline_basemap.basemap())
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
def subject_list(request):
    qs = SubjectFilter(request.GET, queryset=selectors.subjects_for(request.user)).qs
    show_phone = may_see_phones(request.user)
    fmt = request.GET.get("export")
    if fmt in ("csv", "xlsx"):
        content = importers.export_subjects(qs, fmt, mask_phones=not show_phone)
        ctype = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(content, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="subjects.{fmt}"'
        return response
    columns = subject_columns()
    related = [r for c in columns for r in c.select_related]
    page = Paginator(qs.select_related(*related).order_by("id"), 50).get_page(request.GET.get("page"))
    chains = selectors.street_and_community_of([s.grid for s in page])
    for s in page:
        s.phone_shown = s.contact_phone if show_phone else mask_phone(s.contact_phone)
        s.street, s.community = chains.get(s.grid_id, (None, None))
    areas = selectors.area_list_for(request.user).filter(kind__in=["street", "community", "grid", "zone"]).defer("boundary")
    form = SubjectListForm(request.GET, areas=areas, categories=SubjectCategory.objects.filter(parent__isnull=True),
                           extra_filters=_extra_choice_filters())
    return render(request, "grids/subject_list.html", {
        "page": page, "form": form, "areas": form.fields["area"].queryset, "columns": columns,
        "export_query": _without(request.GET, "page", "export"),
    })


def _extra_choice_filters():
    """Filters other apps add to SubjectFilter (credit's colour) get a drop-down too; grids names none of them."""
    own = {"area", "category", "status", "q"}  # drawn by the form itself
    return [(name, f.label, f.extra.get("choices") or [])
            for name, f in SubjectFilter.base_filters.items() if name not in own and f.extra.get("choices")]


def _without(params, *names):
    query = params.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _optional_url(name, **kwargs) -> str:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


class ImportPage(ImportPreviewView):
    """Upload → dry-run preview with every bad row → confirm to write. Bureau staff only."""

    template_name = "grids/import.html"
    form_class = ImportForm
    success_url = "subject-import"

    def may_import(self, user):
        return has_role(user, BUREAU_STAFF)

    def run_import(self, user, kind, data, filename, *, dry_run, skip_invalid):
        if kind == "areas":
            return importers.import_areas(user, data, dry_run=dry_run, skip_invalid=skip_invalid)
        return importers.import_subjects(user, data, filename, dry_run=dry_run, skip_invalid=skip_invalid)

    def succeeded(self, report):
        return report.written  # skipping bad rows writes the good ones: errors alone don't mean failure

    def template_formats(self, kind):
        return ("geojson",) if kind == "areas" else ("xlsx", "csv")

    def template_file(self, kind, fmt):
        return importers.blank_template(kind, fmt), f"{kind}-template.{fmt}"
