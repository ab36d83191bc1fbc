from django.urls import path

from command_center.dashboard import views

urlpatterns = [
    path("command/", views.dashboard, name="command-dashboard"),
    path("command/screen/", views.screen, name="command-screen"),
]
