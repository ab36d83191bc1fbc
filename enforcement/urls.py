from django.urls import path

from enforcement import views

urlpatterns = [
    path("catalog/", views.catalog_browser, name="catalog"),
    path("catalog/scenarios/<int:pk>/", views.scenario_detail, name="catalog-scenario"),
    path("catalog/versions/", views.version_list, name="catalog-versions"),
    path("catalog/versions/<int:pk>/diff/", views.version_diff, name="catalog-diff"),
    path("catalog/supermarket/", views.supermarket, name="catalog-supermarket"),
    path("catalog/import/", views.ImportPage.as_view(), name="catalog-import"),
    path("catalog/export/", views.export_file, name="catalog-export"),
    path("catalog/delegations/<int:pk>/revoke/", views.revoke_page, name="catalog-revoke"),
]
