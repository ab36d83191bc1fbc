"""Analytics' words for the audit page (core.audit_words). Registered from AnalyticsConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from core import audit_words


def register():
    from analytics import models

    audit_words.register_actions({
        "warning.raised": _("发出热点预警"), "warning.expired": _("热点预警解除"),
        "warning.acknowledged": _("确认热点预警"), "assessment.weights_changed": _("修改考核权重"),
    })
    audit_words.register_object(models.HotspotWarning._meta.label_lower, model=models.HotspotWarning)
    audit_words.register_object(models.AssessmentWeight._meta.label_lower, model=models.AssessmentWeight)
