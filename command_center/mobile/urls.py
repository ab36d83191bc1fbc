from django.urls import path

from command_center.mobile import views

urlpatterns = [
    path("", views.tasks, name="mobile"),
    path("tasks/<int:pk>/", views.task, name="mobile-task"),
]
