from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("红黄绿信用")

    def ready(self):
        # `?color=` on the registry's subject list (grids may not import credit, so credit adds it).
        from credit import services
        from credit.api import subject_filters

        subject_filters.register()
        services.register_followups()  # rescoring after commits, through core.outbox
