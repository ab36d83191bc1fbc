from django.urls import path

from analytics import views

urlpatterns = [
    path("reports/", views.reports, name="reports"),
    path("reports/monthly.pdf", views.monthly_pdf, name="report-monthly-pdf"),
    path("reports/warnings/", views.warnings_page, name="report-warnings"),
    path("reports/assessment/", views.assessment_page, name="report-assessment"),
    path("reports/warnings/<int:pk>/acknowledge/", views.acknowledge, name="report-warning-acknowledge"),
]
