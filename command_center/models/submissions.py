"""Asynchronous intake (`Prefer: respond-async`): the one row a machine feed's report becomes before a
worker runs it through intake (command_center.submissions). """
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from command_center.choices import SubmissionStatus


class EventSubmission(models.Model):
    """A report accepted with 202: the raw body, who sent it and its Idempotency-Key, written in one
    INSERT; then the event it became or the errors the synchronous path would have answered."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交方"), on_delete=models.CASCADE,
                               related_name="+")
    # The body as JSON text (escaped: a NUL or a lone surrogate, which a jsonb column refuses, must not make
    # the one write fail before intake's own validation answers it); `payload` is the parsed object.
    body = models.TextField(_("原始内容"))
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    body_hash = models.CharField(max_length=64)
    # The sender's language: the errors are written in it, as the synchronous answer would have been.
    language = models.CharField(max_length=16, blank=True, default="")
    status = models.CharField(_("状态"), max_length=16, choices=SubmissionStatus.choices,
                              default=SubmissionStatus.PENDING)
    event = models.ForeignKey("command_center.Event", verbose_name=_("事件"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    errors = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    # Not taken before this time (a retry after an unexpected failure waits its backoff).
    available_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("异步上报")
        verbose_name_plural = _("异步上报")
        constraints = [
            models.UniqueConstraint(fields=["client", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="uniq_submission_client_key"),
        ]
        indexes = [
            # The workers' queue: the oldest pending submission of each client.
            models.Index(fields=["client", "id"], condition=Q(status="pending"), name="submission_pending_idx"),
        ]

    @property
    def payload(self):
        return json.loads(self.body)

    def __str__(self):
        return f"submission {self.pk} ({self.status})"
