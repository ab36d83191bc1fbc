"""Inspections' words for the audit page (core.audit_words). Registered from InspectionsConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from core import audit_words


def register():
    from inspections import models

    audit_words.register_actions({
        "inspections.plan_drafted": _("起草月度检查计划"), "inspections.plan_approved": _("批准检查计划"),
        "inspections.plan_amended": _("修改已批准的检查计划"), "inspections.visit_added": _("加入检查"),
        "inspections.visit_moved": _("调整检查日期或人员"), "inspections.visit_removed": _("移出检查"),
        "inspections.visit_completed": _("完成检查"), "inspections.finding_recorded": _("记录检查结果"),
        "inspections.photo_added": _("添加检查照片"), "inspections.rectified": _("整改完成"),
        "inspections.reinspected": _("复查"), "inspections.rectification_overdue": _("整改逾期"),
        "inspections.referred_to_case": _("移交立案"), "inspections.referral_taken_up": _("移交立案已受理"),
        "inspections.rules_changed": _("修改检查计划规则"), "inspections.comply_by_changed": _("修改整改期限默认值"),
        "inspections.unscheduled_placed": _("安排未能排入的检查"),
    })
    for model in (models.InspectionPlan, models.Visit, models.Finding, models.Referral, models.PlanRules,
                  models.ComplyByDefault, models.ComplyByItem):
        audit_words.register_object(model._meta.label_lower, model=model)
