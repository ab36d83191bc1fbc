from rest_framework.routers import SimpleRouter

from command_center.api import views

router = SimpleRouter()
router.register("events", views.EventViewSet, basename="event")

urlpatterns = [*router.urls]
