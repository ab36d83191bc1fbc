"""config.settings_bench's ROOT_URLCONF: the real URLs plus the baseline endpoint."""
from django.urls import path

from bench.bare.views import BareRowCreate
from config.urls import handler404, urlpatterns as real_urlpatterns  # noqa: F401  (handler404 re-exported)

urlpatterns = [path("api/v1/bench/bare/", BareRowCreate.as_view(), name="bench-bare"), *real_urlpatterns]
