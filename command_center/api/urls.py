from django.urls import path
from rest_framework.routers import SimpleRouter

from command_center.api import views

router = SimpleRouter()
router.register("events", views.EventViewSet, basename="event")

urlpatterns = [
    path("command/snapshot/", views.CommandSnapshotView.as_view(), name="command-snapshot"),
    *router.urls,
]
