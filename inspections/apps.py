from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = _("综合查一次")

    def ready(self):
        from inspections import audit_words

        audit_words.register()  # the audit page's words (core.audit_words)
