from django.urls import path

from inspections import views

app_name = "inspections"

urlpatterns = [
    path("inspections/", views.visit_list, name="list"),
    path("inspections/plans/", views.plans, name="plans"),
    path("inspections/plans/new/", views.plan_new, name="plan-new"),
    path("inspections/plans/<int:pk>/approve/", views.plan_approve, name="plan-approve"),
    path("inspections/plans/<int:pk>/visits/add/", views.visit_add, name="visit-add"),
    path("inspections/plans/<int:pk>/visits/<int:visit_id>/move/", views.visit_move, name="visit-move"),
    path("inspections/rules/", views.rules, name="rules"),
    path("inspections/results/", views.results_public, name="results"),
    path("inspections/<int:pk>/", views.visit_page, name="visit"),
    path("inspections/<int:pk>/refer/", views.visit_refer, name="visit-refer"),
    path("inspections/<int:pk>/reinspect/", views.visit_reinspect, name="visit-reinspect"),
    path("inspections/<int:pk>/photos/<int:photo_id>/", views.photo, name="photo"),
    path("m/inspections/", views.mobile, name="mobile"),
    path("m/inspections/sw.js", views.service_worker, name="service-worker"),
]
