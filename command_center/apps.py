from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommandCenterConfig(AppConfig):
    name = "command_center"
    verbose_name = _("指挥中心")

    def ready(self):
        from command_center import audit_words

        audit_words.register()  # the audit page's words (core.audit_words)
        from command_center import inspection_events, push, tasks, webhooks
        from command_center.mobile import push as officer_push
        from command_center.services import transitions

        push.connect()
        officer_push.connect()
        webhooks.connect()
        transitions.connect()
        tasks.connect()
        inspection_events.connect()

        # SLA policies and webhook subscriptions are cached per process (core.refcache).
        from command_center.models import SlaPolicy, WebhookSubscription
        from core import refcache

        refcache.watch(refcache.SLA, SlaPolicy)
        refcache.watch(refcache.WEBHOOKS, WebhookSubscription, m2m=(WebhookSubscription.areas.through,))
