from rest_framework.routers import SimpleRouter

from cases.api import views

router = SimpleRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register("color-appeals", views.ColorAppealViewSet, basename="color-appeal")
router.register("disclosures", views.DisclosureViewSet, basename="disclosure")

urlpatterns = router.urls
