from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("cases/", views.queue, name="queue"),
    path("cases/new/", views.file_case, name="file"),
    path("cases/<int:case_id>/", views.detail, name="detail"),
    path("cases/<int:case_id>/act/<slug:name>/", views.act, name="act"),
    path("disclosures/", views.disclosures, name="disclosures"),
]
