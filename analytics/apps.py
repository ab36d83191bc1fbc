from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("统计分析")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The hot-area check runs every few minutes: Celery beat in production (settings), the embedded
        # ticker in `make run` (registered here: the command center knows nothing of analytics).
        from analytics import audit_words, caching, push, services
        from command_center import ticker
        from core import outbox

        audit_words.register()
        ticker.every("analytics-hotspots", services.HOTSPOT_CHECK_SECONDS, services.check_hotspots_now)
        ticker.every("analytics-refresh-figures", caching.refresh_seconds(), caching.refresh_figures_now)
        # A raised, acknowledged or expired warning is pushed to the desks of its street and the district right after the commit.
        outbox.register(services.WARNING_RAISED, "analytics.push.warning_raised", push.on_warning_raised)
        outbox.register(services.WARNING_EXPIRED, "analytics.push.warning_expired", push.on_warning_expired)
        outbox.register(services.WARNING_ACKNOWLEDGED, "analytics.push.warning_acknowledged",
                        push.on_warning_acknowledged)
