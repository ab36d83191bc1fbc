from django.urls import path
from rest_framework.routers import DefaultRouter

from enforcement.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("catalog/versions", views.CatalogVersionViewSet, basename="catalog-version")
router.register("matters", views.MatterViewSet, basename="matter")
router.register("delegations", views.DelegationViewSet, basename="delegation")
router.register("tier-templates", views.TierTemplateViewSet, basename="tier-template")
router.register("problem-types", views.ProblemTypeViewSet, basename="problem-type")
router.register("checklists", views.ChecklistViewSet, basename="checklist")
router.register("scenarios", views.ScenarioViewSet, basename="scenario")

urlpatterns = [
    path("routing/", views.RoutingView.as_view(), name="routing"),
    path("subjects/<int:pk>/checklist/", views.SubjectChecklistView.as_view(), name="subject-checklist"),
    path("catalog/import/<str:kind>/", views.CatalogImportView.as_view(), name="catalog-import-api"),
    *router.urls,
]
