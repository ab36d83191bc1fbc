from django.urls import path

from command_center.pages import views

urlpatterns = [
    path("review/", views.review_page, name="review"),
    path("events/", views.event_history, name="event-history"),
    path("subjects/<int:pk>/", views.subject_file_page, name="subject-file"),
]
