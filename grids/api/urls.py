from django.urls import path
from rest_framework.routers import DefaultRouter

from grids.api import views

router = DefaultRouter()
router.register("areas", views.AreaViewSet, basename="area")
router.register("subjects", views.SubjectViewSet, basename="subject")
router.register("subject-categories", views.CategoryViewSet, basename="subject-category")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("teams", views.TeamViewSet, basename="team")
router.register("officers", views.OfficerViewSet, basename="officer")

urlpatterns = [
    path("grids/locate/", views.LocateView.as_view(), name="grids-locate"),
    path("areas/geojson/", views.AreaGeoJSONView.as_view(), name="areas-geojson"),
    path("subjects/points/", views.SubjectPointsView.as_view(), name="subject-points"),
    *router.urls,
]
