from django.urls import path
from rest_framework.routers import SimpleRouter

from credit.api import views

ID = "<int:pk>"

router = SimpleRouter()
router.register("credit/policies", views.PolicyViewSet, basename="credit-policy")

# Included from config/urls.py before grids' router, which owns /subjects/ (grids may not import credit).
urlpatterns = [
    path(f"subjects/{ID}/credit/", views.SubjectCreditView.as_view(), name="subject-credit"),
    path(f"subjects/{ID}/credit/override/", views.SubjectCreditOverrideView.as_view(), name="subject-credit-override"),
    path("sensor-readings/", views.SensorReadingView.as_view(), name="sensor-readings"),
    *router.urls,
]
