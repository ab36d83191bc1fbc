"""Per street and severity: dispatch rules, dispatcher shifts, review rules."""
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from command_center.choices import DispatchMode, Severity


def street_severity_constraints(prefix: str) -> list:
    """One rule per (street, severity), and one district default (street empty) per severity."""
    return [
        models.UniqueConstraint(fields=["street", "severity"], condition=Q(street__isnull=False),
                                name=f"uniq_{prefix}_street_severity"),
        models.UniqueConstraint(fields=["severity"], condition=Q(street__isnull=True),
                                name=f"uniq_{prefix}_district_severity"),
    ]


class StreetSeverityRule(models.Model):
    """What a rule for one street (or the district default when `street` is empty, declared by each rule
    with its own related name) and one severity holds besides its setting: who changed it, when."""

    severity = models.CharField(_("等级"), max_length=8, choices=Severity.choices)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("修改人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ["street_id", "severity"]

    def scope_label(self) -> str:
        return f"{self.street.name if self.street_id else _('全区默认')} {self.get_severity_display()}"


class DispatchRule(StreetSeverityRule):
    """How events of one street (or the district default when street is empty) and one severity are
    dispatched. No rule at all: events wait in the dispatchers' queue (nothing automatic happens)."""

    street = models.ForeignKey(
        "grids.Area", verbose_name=_("镇街"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="dispatch_rules", help_text=_("留空表示全区默认"),
    )
    mode = models.CharField(_("派遣模式"), max_length=16, choices=DispatchMode.choices)
    # In automatic mode a decline always goes to the next candidate; this turns it on for the others too.
    next_on_decline = models.BooleanField(
        _("退回后自动派给下一候选人"), default=False, help_text=_("自动派遣模式下总是如此"),
    )

    class Meta(StreetSeverityRule.Meta):
        verbose_name = _("派遣规则")
        verbose_name_plural = _("派遣规则")
        constraints = street_severity_constraints("dispatch_rule")

    def __str__(self):
        return f"{self.scope_label()}: {self.get_mode_display()}"


class DispatcherShift(models.Model):
    """A dispatcher (or team leader) signed on at the command desk: from started_at until they sign off
    (ended_at) or the shift's planned end (ends_at) passes, whichever comes first, so a forgotten
    sign-off cannot keep a street in manual mode with nobody watching."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("值班员"), on_delete=models.CASCADE, related_name="dispatcher_shifts",
    )
    started_at = models.DateTimeField(_("签到时间"))
    ends_at = models.DateTimeField(_("计划下班时间"))
    ended_at = models.DateTimeField(_("签退时间"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("值班签到")
        verbose_name_plural = _("值班签到")
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(ended_at__isnull=True), name="uniq_open_dispatcher_shift"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("started_at")), name="dispatcher_shift_ends_after_start"),
        ]
        indexes = [models.Index(fields=["ends_at"], name="dispatcher_shift_open", condition=Q(ended_at__isnull=True))]

    def __str__(self):
        return f"{self.user} {self.started_at:%Y-%m-%d %H:%M}"


# --- The team leader's review and co-governance (command_center.services.review / deliberation) -------



class ReviewRule(StreetSeverityRule):
    """Whether handled events of one street (or the district default when street is empty) and one
    severity wait for the team leader's review (审核) before they close. No rule: no review (the event
    is closed by the dispatcher's evaluation, as before review existed)."""

    class Review(models.TextChoices):
        ALL = "all", _("全部审核")
        CITIZEN = "citizen", _("群众上报的审核")
        NONE = "none", _("不审核")

    street = models.ForeignKey(
        "grids.Area", verbose_name=_("镇街"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="review_rules", help_text=_("留空表示全区默认"),
    )
    review = models.CharField(_("审核范围"), max_length=8, choices=Review.choices)

    class Meta(StreetSeverityRule.Meta):
        verbose_name = _("审核规则")
        verbose_name_plural = _("审核规则")
        constraints = street_severity_constraints("review_rule")

    def __str__(self):
        return f"{self.scope_label()}: {self.get_review_display()}"
