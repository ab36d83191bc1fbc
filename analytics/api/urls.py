from django.urls import path

from analytics.api import views

urlpatterns = [
    path("stats/events/", views.EventStatsView.as_view(), name="stats-events"),
    path("stats/inspections/", views.InspectionStatsView.as_view(), name="stats-inspections"),
    path("stats/cases/", views.CaseStatsView.as_view(), name="stats-cases"),
    path("stats/credit/", views.CreditStatsView.as_view(), name="stats-credit"),
    path("stats/trends/", views.TrendStatsView.as_view(), name="stats-trends"),
    path("stats/screen/", views.ScreenStatsView.as_view(), name="stats-screen"),
    path("assessments/", views.AssessmentView.as_view(), name="assessments"),
    path("assessments/weights/", views.AssessmentWeightsView.as_view(), name="assessment-weights"),
    path("warnings/", views.WarningListView.as_view(), name="warning-list"),
    path("warnings/<int:pk>/", views.WarningDetailView.as_view(), name="warning-detail"),
    path("warnings/<int:pk>/acknowledge/", views.WarningAcknowledgeView.as_view(), name="warning-acknowledge"),
]
