from django.urls import path

from grids import views

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("subjects/", views.subject_list, name="subjects"),
    path("subjects/<int:pk>/", views.subject_file, name="subject-file"),
    path("subjects/import/", views.ImportPage.as_view(), name="subject-import"),
]
