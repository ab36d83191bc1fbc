"""Deliberations (红茶议事会 and the like) and their append-only meeting minutes."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from command_center.choices import DeliberationOutcome, Status
from command_center.models.events import Event
from core.models import AppendOnlyQuerySet


class Deliberation(models.Model):
    """Co-governance deliberation (红茶议事会) of an event enforcement cannot settle: the topic, who takes
    part, its meetings, and the consensus, whose outcome closes or re-opens the event. One open per event."""

    event = models.ForeignKey(Event, verbose_name=_("事件"), on_delete=models.PROTECT, related_name="deliberations")
    topic = models.CharField(_("议题"), max_length=500)
    # [{"name": "…", "role": "…"}]: residents, shop owners, the community, departments.
    participants = models.JSONField(_("参与方"), default=list, blank=True)
    from_status = models.CharField(_("提交前状态"), max_length=16, choices=Status.choices)
    started_at = models.DateTimeField(_("提交时间"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    consensus = models.TextField(_("议事共识"), blank=True)
    outcome = models.CharField(_("结果"), max_length=8, choices=DeliberationOutcome.choices, blank=True)
    concluded_at = models.DateTimeField(_("形成结论时间"), null=True, blank=True)
    concluded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("结论登记人"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("议事协商")
        verbose_name_plural = _("议事协商")
        constraints = [
            models.UniqueConstraint(fields=["event"], condition=Q(concluded_at__isnull=True),
                                    name="uniq_open_deliberation_per_event"),
        ]

    def __str__(self):
        return f"#{self.event_id} {self.topic[:30]}"


class DeliberationMeeting(models.Model):
    """One meeting of a deliberation, with its minutes. Append-only (a record of what was said)."""

    deliberation = models.ForeignKey(Deliberation, verbose_name=_("议事协商"), on_delete=models.PROTECT,
                                     related_name="meetings")
    held_at = models.DateTimeField(_("会议时间"))
    place = models.CharField(_("地点"), max_length=200, blank=True)
    attendees = models.JSONField(_("参会人"), default=list, blank=True)
    minutes = models.TextField(_("会议纪要"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("记录时间"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["held_at", "id"]
        verbose_name = _("议事会议")
        verbose_name_plural = _("议事会议")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("meeting minutes are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("meeting minutes are append-only")
