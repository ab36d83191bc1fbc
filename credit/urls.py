from django.urls import path

from credit import views

urlpatterns = [
    path("credit/ranking/", views.ranking, name="credit-ranking"),
    path("credit/ranking/public/", views.ranking_public, name="credit-ranking-public"),
]
