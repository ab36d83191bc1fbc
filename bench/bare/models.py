from django.conf import settings
from django.db import models


class BareRow(models.Model):
    """One row per request to the baseline endpoint: the least a "create" can write."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
