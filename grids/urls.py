from django.urls import path

from grids import user_pages, views

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("map/basemap.geojson", views.basemap, name="map-basemap"),
    path("subjects/", views.subject_list, name="subjects"),
    path("subjects/import/", views.ImportPage.as_view(), name="subject-import"),
    path("users/", user_pages.user_list, name="users"),
    path("users/new/", user_pages.user_create, name="user-create"),
    path("users/<int:pk>/", user_pages.user_edit, name="user-edit"),
    path("users/<int:pk>/active/", user_pages.user_set_active, name="user-set-active"),
    path("users/<int:pk>/password/", user_pages.user_reset_password, name="user-reset-password"),
]
