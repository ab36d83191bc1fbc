"""/open311/v2/…: every resource with a .xml or .json suffix (another suffix → 404 in the spec's format)."""
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from command_center.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]{1,20})"
# Validators and some clients join the base URL and the resource with a slash of their own
# (/open311/v2//services.xml): extra slashes resolve to the same resource (a redirect would lose a POST).
# In a group, so Django's check for patterns starting with "^/" (urls.W002, meant for typos) stays quiet.
S = r"^(?:/*)"

urlpatterns = [
    re_path(rf"{S}$", views.discovery, {"fmt": "xml"}, name="root"),
    re_path(rf"{S}discovery{FMT}$", views.discovery, name="discovery"),
    re_path(rf"{S}services{FMT}$", views.service_list, name="services"),
    re_path(rf"{S}services/(?P<code>[^/]+?){FMT}$", views.service_definition, name="service"),
    re_path(rf"{S}requests{FMT}$", views.requests_, name="requests"),
    re_path(rf"{S}requests/(?P<request_id>[^/]+?){FMT}$", views.request_detail, name="request"),
    re_path(r"^(?P<rest>.*)$", csrf_exempt(views.not_found)),
]
