from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("红黄绿信用")

    def ready(self):
        from credit import audit_words

        audit_words.register()  # the audit page's words (core.audit_words)
        # `?color=` on the registry's subject list (grids may not import credit, so credit adds it).
        from credit.api import subject_filters
        from credit.services import rescoring

        subject_filters.register()
        subject_filters.register_column()
        rescoring.register_followups()  # rescoring after commits, through core.outbox
