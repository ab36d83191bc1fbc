from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import views as core_views
from core.login_guard import AdminLoginForm, LoginForm


def _discover_admin_modules():
    """Admin autodiscovery minus django-leaflet's admin, which imports GeoDjango and so needs GDAL."""
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    for app in apps.get_app_configs():
        if app.name != "leaflet" and find_spec(f"{app.name}.admin"):
            import_module(f"{app.name}.admin")


_discover_admin_modules()
admin.site.login_form = AdminLoginForm  # says "locked" after repeated failures (core.login_guard)

# The API docs' own pages (drf-spectacular) carry an inline <style> and Swagger UI/Redoc inject styles:
# only these pages may use inline styles. Swagger's script comes as a file (the split view), no inline JS.
_docs_csp = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})

# Django tries the patterns in order and an include at "" that misses still walks all of its own: the
# busiest routes come first (the command center's: intake, the desk's snapshot), and the API before the
# pages. No route of command_center.api.urls matches another include's URL (its only shared prefix,
# subjects/<pk>/, ends in file/, which no other include has), and no page URL starts with api/v1/.
api_v1 = [
    path("", include("command_center.api.urls")),
    path("auth/token/", core_views.ObtainTokenView.as_view(), name="api-token"),
    path("", include("credit.api.urls")),  # before grids: /subjects/{id}/credit/ lives in credit
    path("", include("grids.api.urls")),
    path("", include("enforcement.api.urls")),
    path("", include("inspections.api.urls")),
    path("", include("cases.api.urls")),
    path("", include("credit.api.surface_urls")),
    path("", include("analytics.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),  # first: see api_v1
    path("", core_views.home, name="home"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("login/", core_views.LoginView.as_view(template_name="registration/login.html", authentication_form=LoginForm),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("audit/", core_views.audit_log, name="audit-log"),
    path("", include("grids.urls")),
    path("", include("enforcement.urls")),
    path("", include("credit.urls")),
    path("", include("inspections.urls")),
    path("", include("cases.urls")),
    path("", include("command_center.dashboard.urls")),
    path("", include("command_center.pages.urls")),  # /review/, /events/, /subjects/{id}/
    path("", include("analytics.urls")),
    path("admin/", admin.site.urls),
    path("open311/v2/", include("command_center.open311.urls")),
    path("m/", include("command_center.mobile.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", _docs_csp(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    # Redoc is gone: its bundle fetches its logo from cdn.redoc.ly (and its page, Google Fonts), and the docs
    # must work on an offline intranet. The address stays, sending readers to Swagger UI (served locally).
    path("api/redoc/", RedirectView.as_view(pattern_name="api-docs", permanent=True), name="api-redoc"),
    # No public /media/: event photos are evidence with personal data, served only by
    # /api/v1/events/{id}/photos/{photo_id}/ to those who may see the event.
]

# A URL that matches nothing under /api/ answers JSON, like every other API error.
handler404 = "core.views.page_not_found"
