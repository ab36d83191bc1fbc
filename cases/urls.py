from django.urls import path

from cases import views, views_color_appeals

app_name = "cases"

urlpatterns = [
    path("cases/", views.queue, name="queue"),
    path("cases/new/", views.file_case, name="file"),
    path("cases/<int:case_id>/", views.detail, name="detail"),
    path("cases/<int:case_id>/act/<slug:name>/", views.act, name="act"),
    path("color-appeals/", views_color_appeals.color_appeals, name="color_appeals"),
    path("color-appeals/<int:appeal_id>/decide/", views_color_appeals.decide_color_appeal,
         name="color_appeal_decide"),
    path("disclosures/", views.disclosures, name="disclosures"),
]
