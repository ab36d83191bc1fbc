"""Credit's words for the audit page (core.audit_words). Registered from CreditConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from core import audit_words


def register():
    from credit import models

    audit_words.register_actions({
        "credit.fact_posted": _("登记信用事实"), "credit.facts_posted": _("批量登记信用事实"),
        "credit.fact_withdrawn": _("撤回信用事实"), "credit.fact_confirmed": _("确认信用事实"), "credit.fact_contested": _("信用事实复议中"),
        "credit.override_set": _("人工调整信用等级"), "credit.override_ended": _("结束人工调整"),
        "credit.override_expired": _("人工调整到期"), "credit.policy_created": _("新建信用规则"),
        "credit.policy_updated": _("修改信用规则"), "credit.policy_retired": _("停用信用规则"),
        "credit.sensor_reading": _("物联感知读数"), "credit.effort_rule_updated": _("修改巡查力度规则"),
    })
    for model in (models.CreditFact, models.CreditOverride, models.CreditPolicy, models.SensorReading, models.EffortRule):
        audit_words.register_object(model._meta.label_lower, model=model)
