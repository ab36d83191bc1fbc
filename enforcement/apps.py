from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnforcementConfig(AppConfig):
    name = "enforcement"
    verbose_name = _("执法事项与办案")

    def ready(self):
        from enforcement import audit_words

        audit_words.register()  # the audit page's words (core.audit_words)
