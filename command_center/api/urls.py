from django.urls import path
from rest_framework.routers import SimpleRouter

from command_center.api import dispatch as dispatch_views
from command_center.api import pages
from command_center.api import submissions as async_intake
from command_center.api import views
from command_center.dashboard import views as dashboard_views

router = SimpleRouter()
router.register("events", views.EventViewSet, basename="event")
router.register("event-submissions", async_intake.EventSubmissionViewSet, basename="event-submission")
router.register("command/dispatch-rules", dispatch_views.DispatchRuleViewSet, basename="dispatch-rule")

urlpatterns = [
    path("command/snapshot/", views.CommandSnapshotView.as_view(), name="command-snapshot"),
    path("command/duty/", dispatch_views.DutyView.as_view(), name="command-duty"),
    path("command/duty/sign-on/", dispatch_views.SignOnView.as_view(), name="command-duty-sign-on"),
    path("command/duty/sign-off/", dispatch_views.SignOffView.as_view(), name="command-duty-sign-off"),
    path("command/figures/", dashboard_views.FiguresView.as_view(), name="command-figures"),
    path("review/", pages.ReviewQueueView.as_view(), name="review-queue"),
    path("subjects/<int:pk>/file/", pages.SubjectFileView.as_view(), name="subject-file-api"),
    *router.urls,
]
