"""Webhook subscriptions of other platforms and their deliveries."""
from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from command_center.models.events import Event


WEBHOOK_KINDS = ("event.created", "event.updated", "assignment.changed", "sla.breached")


def _webhook_secret():
    import secrets

    return secrets.token_urlsafe(32)


def _validate_webhook_kinds(value):
    from django.core.exceptions import ValidationError

    if not isinstance(value, list) or not value or any(k not in WEBHOOK_KINDS for k in value):
        raise ValidationError(_("事件类型须为以下之一的非空列表：%(kinds)s"), params={"kinds": ", ".join(WEBHOOK_KINDS)})


class WebhookSubscription(models.Model):
    """An API client's endpoint: which kinds of change it wants, for which areas (none = the client's own)."""

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("外部平台"), on_delete=models.CASCADE,
        related_name="webhook_subscriptions", limit_choices_to={"groups__name": "api_client"},
    )
    url = models.URLField(_("推送地址"), max_length=500, help_text=_("http 或 https 地址"),
                          validators=[URLValidator(schemes=["http", "https"])])
    secret = models.CharField(_("签名密钥"), max_length=128, default=_webhook_secret)
    kinds = models.JSONField(_("事件类型"), default=list, validators=[_validate_webhook_kinds],
                             help_text=_("如 [\"event.created\", \"sla.breached\"]"))
    areas = models.ManyToManyField("grids.Area", verbose_name=_("区域"), blank=True, related_name="+",
                                   help_text=_("留空表示该平台自身的区域"))
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("Webhook 订阅")
        verbose_name_plural = _("Webhook 订阅")

    def __str__(self):
        return f"{self.client} → {self.url}"

    def clean(self):
        from django.core.exceptions import ValidationError

        from core.roles import API_CLIENT, has_role

        from core import egress

        errors = {}
        if self.client_id and not has_role(self.client, API_CLIENT):
            errors["client"] = _("只能为外部平台账号订阅。")
        if self.url:
            try:
                egress.check_url(self.url)  # sent again through the same check, to the address checked
            except egress.AddressRefused as exc:
                errors["url"] = _("推送地址不能指向本机或内网：%(reason)s") % {"reason": exc.reason}
        if errors:
            raise ValidationError(errors)


class WebhookDelivery(models.Model):
    """One change sent (or to be sent) to one subscription: the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败待重试")
        DEAD = "dead", _("已放弃")

    subscription = models.ForeignKey(WebhookSubscription, verbose_name=_("订阅"), on_delete=models.CASCADE,
                                     related_name="deliveries")
    kind = models.CharField(_("类型"), max_length=32)
    event = models.ForeignKey(Event, verbose_name=_("事件"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    payload = models.JSONField(_("内容"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    # The outbox row (and the change's place in it) this delivery was made for: a row run twice makes
    # each delivery once.
    source_key = models.CharField(_("来源"), max_length=80, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Webhook 推送记录")
        verbose_name_plural = _("Webhook 推送记录")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]
        constraints = [models.UniqueConstraint(fields=["subscription", "source_key"], condition=~models.Q(source_key=""),
                                               name="webhook_delivery_once_per_source")]

    def __str__(self):
        return f"#{self.pk} {self.kind} → {self.subscription_id}"


# --- Dispatch modes and the dispatchers' sign-on (command_center.dispatch) ----------------------------
