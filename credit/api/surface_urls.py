"""API routes for the effort rules, the due list and the map colours (included from config/urls.py
under /api/v1/)."""
from django.urls import path

from credit.api import colors, effort

urlpatterns = [
    path("credit/effort/", effort.EffortDueView.as_view(), name="credit-effort"),
    path("credit/effort-rules/", effort.EffortRuleListView.as_view(), name="credit-effort-rules"),
    path("credit/effort-rules/<str:color>/", effort.EffortRuleDetailView.as_view(), name="credit-effort-rule"),
    path("credit/colors/", colors.ColorsView.as_view(), name="credit-colors"),
]
