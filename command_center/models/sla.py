"""The SLA clock: policies, deadlines, breaches (one per deadline) and escalations."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from command_center.choices import Action, EscalationTarget, Severity, Status
from command_center.models.events import Event


class SlaPolicy(models.Model):
    """Timed response for one street (or the district default when street is empty) and one severity.

    `stages`: ordered list of {"stage", "minutes", "met_by", "escalate_to"}; minutes count from intake and
    never decrease down the list (1510 = sign for within 1, arrive within 5, handle within 10).
    """

    name = models.CharField(_("名称"), max_length=100)
    street = models.ForeignKey(
        "grids.Area", verbose_name=_("镇街"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="sla_policies", help_text=_("留空表示全区默认"),
    )
    severity = models.CharField(_("等级"), max_length=8, choices=Severity.choices)
    stages = models.JSONField(_("时限环节"), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["street_id", "severity"]
        verbose_name = _("时限策略")
        verbose_name_plural = _("时限策略")
        constraints = [
            models.UniqueConstraint(
                fields=["street", "severity"], condition=Q(street__isnull=False), name="uniq_sla_street_severity",
            ),
            models.UniqueConstraint(
                fields=["severity"], condition=Q(street__isnull=True), name="uniq_sla_district_severity",
            ),
        ]

    def __str__(self):
        return self.name


class Deadline(models.Model):
    """One timed stage of one event. The sweep fires a due one exactly once (fired_at)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deadlines")
    stage = models.CharField(_("环节"), max_length=16)
    position = models.PositiveSmallIntegerField(default=0)
    met_by = models.CharField(_("完成动作"), max_length=16, choices=Action.choices)
    escalate_to = models.CharField(_("超时升级至"), max_length=16, choices=EscalationTarget.choices)
    policy_name = models.CharField(_("时限策略"), max_length=100, blank=True)
    due_at = models.DateTimeField(_("时限"))
    met_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # Set when the stage is known to have been missed (by the sweep, or by a late action before it).
    breached_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    # Set once, by whoever wins the conditional UPDATE … WHERE fired_at IS NULL.
    fired_at = models.DateTimeField(_("触发时间"), null=True, blank=True)
    # The event left the flow (closed, rejected, merged, transferred, re-graded) before the stage came up.
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        ordering = ["event_id", "position", "id"]
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        indexes = [
            # The sweep's index: only deadlines still waiting to fire are in it, so it stays small.
            models.Index(
                fields=["due_at"], name="deadline_due_unfired",
                condition=Q(fired_at__isnull=True, met_at__isnull=True, cancelled_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "stage"], condition=Q(cancelled_at__isnull=True), name="uniq_live_deadline_stage",
            ),
        ]

    def __str__(self):
        return f"{self.event_id}:{self.stage}@{self.due_at:%H:%M:%S}"


class Breach(models.Model):
    """A deadline that fired: the stage was not met in time."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="breaches")
    deadline = models.OneToOneField(Deadline, on_delete=models.CASCADE, related_name="breach")
    stage = models.CharField(_("环节"), max_length=16)
    due_at = models.DateTimeField(_("时限"))
    fired_at = models.DateTimeField(_("触发时间"), db_index=True)
    officer = models.ForeignKey(
        "grids.Officer", verbose_name=_("当时处置人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    status = models.CharField(_("当时状态"), max_length=16, choices=Status.choices)

    class Meta:
        ordering = ["-fired_at", "-id"]
        verbose_name = _("超时记录")
        verbose_name_plural = _("超时记录")


class Escalation(models.Model):
    """An event raised to the next rank, the team leader or the district: by a breach or by a person."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="escalations")
    breach = models.OneToOneField(Breach, null=True, blank=True, on_delete=models.CASCADE, related_name="escalation")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    target = models.CharField(_("升级至"), max_length=16, choices=EscalationTarget.choices)
    level = models.PositiveSmallIntegerField(_("层级"))
    target_officer = models.ForeignKey(
        "grids.Officer", null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations_received",
    )
    target_team = models.ForeignKey("grids.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_area = models.ForeignKey("grids.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("原因"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("升级记录")
        verbose_name_plural = _("升级记录")
