"""Casework's words for the audit page (core.audit_words): every step of the full-process record is
audited as `case.<step>` (cases.services.common._finish), so the steps' own labels are the words."""
from django.utils.translation import gettext_lazy as _

from core import audit_words


def register():
    from cases import models
    from cases.choices import Step

    audit_words.register_actions({f"case.{value}": label for value, label in Step.choices})
    audit_words.register_actions({"case.filed": _("立案"), "case.color_appeal": _("登记信用颜色复议/申诉"),
                                  "case.color_appeal_decided": _("信用颜色复议/申诉结果"),
                                  "case.color_appeal_reminder": _("信用颜色复议/申诉期限提醒"),
                                  "case.color_appeal_overdue": _("信用颜色复议/申诉已超期")})
    for model in (models.Case, models.Evidence, models.Appeal, models.Transfer, models.ColorAppeal):
        audit_words.register_object(model._meta.label_lower, model=model)
