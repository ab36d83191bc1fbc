from django.urls import path

from grids import views

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("map/basemap.geojson", views.basemap, name="map-basemap"),
    path("subjects/", views.subject_list, name="subjects"),
    path("subjects/import/", views.ImportPage.as_view(), name="subject-import"),
]
