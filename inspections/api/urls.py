from django.urls import path
from rest_framework.routers import DefaultRouter

from inspections.api import views

router = DefaultRouter()
router.register("inspection-plans", views.InspectionPlanViewSet, basename="inspection-plan")
router.register("inspections", views.InspectionViewSet, basename="inspection")
router.register("inspection-results", views.PublicResultViewSet, basename="inspection-result")

urlpatterns = [path("inspection-rules/", views.PlanRulesView.as_view(), name="inspection-rules"), *router.urls]
