from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("audit records are append-only")

    def delete(self):
        raise PermissionError("audit records are append-only")


class AuditLog(models.Model):
    """One record per state change made through a service: who, what, when, from what to what."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, db_index=True)
    object_id = models.CharField(_("对象ID"), max_length=64, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=255, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("来源IP"), null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit records are append-only")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_type}#{self.object_id}"


class OutboxMessage(models.Model):
    """Work that must follow a commit (core.outbox): written in the transaction whose commit it follows,
    run right after that commit, and by the periodic drain when the process that committed died first."""

    kind = models.CharField(_("类型"), max_length=100)
    payload = models.JSONField(_("内容"), default=dict, blank=True)
    created_at = models.DateTimeField(_("写入时间"), default=timezone.now)
    # The drain takes a row from this time on: later than created_at, so the committing process runs it
    # first; after a failure, when the next attempt is due.
    available_at = models.DateTimeField(_("可处理时间"), default=timezone.now)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("待办后续")
        verbose_name_plural = _("待办后续")
        indexes = [models.Index(fields=["available_at"], condition=models.Q(done_at__isnull=True),
                                name="core_outbox_pending")]

    def __str__(self):
        return f"#{self.pk} {self.kind}"


class ReferenceVersion(models.Model):
    """A counter per topic of reference data (core.refcache): database triggers bump it on every write to
    the tables behind the topic, so each process knows when its in-memory copy is stale."""

    topic = models.CharField(max_length=32, primary_key=True)
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("参考数据版本")
        verbose_name_plural = _("参考数据版本")
