from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("执法办案")

    def ready(self):
        from cases import audit_words

        audit_words.register()  # the audit page's words (core.audit_words)
