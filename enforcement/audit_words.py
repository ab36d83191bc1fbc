"""The catalog's words for the audit page (core.audit_words). Registered from EnforcementConfig.ready()."""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core import audit_words


def register():
    from enforcement import models

    audit_words.register_actions({
        "catalog.draft_opened": _("打开事项清单草稿"), "catalog.published": _("发布事项清单"),
        "catalog.archived": _("归档事项清单版本"), "catalog.note_changed": _("修改版本说明"),
        "matter.created": _("新建执法事项"), "matter.updated": _("修改执法事项"),
        "delegation.created": _("新建赋权"), "delegation.updated": _("修改赋权"), "delegation.revoked": _("撤销赋权"),
        "delegation.bulk_created": _("批量赋权"),
        "tier_template.saved": _("保存赋权模板"), "tier_template.applied": _("应用赋权模板"),
        "problem_type.created": _("新建问题类型"), "problem_type.updated": _("修改问题类型"),
        "checklist.created": _("新建检查清单"), "checklist.updated": _("修改检查清单"),
        "checklist.areas_edited": _("修改检查清单适用区域"),
        "checklist_item.created": _("新建检查条目"), "checklist_item.updated": _("修改检查条目"),
        "scenario.created": _("新建场景"), "scenario.updated": _("修改场景"), "scenario.items_added": _("场景添加事项"),
        "scenario.items_edited": _("修改场景事项"), "scenario.published": _("发布场景"), "scenario.withdrawn": _("撤回场景"),
        "demo.catalog_loaded": _("载入事项清单演示数据"),
    })
    for model in (models.CatalogVersion, models.Matter, models.Delegation, models.TierTemplate, models.ProblemType,
                  models.Checklist, models.ChecklistItem):
        audit_words.register_object(model._meta.label_lower, model=model)
    audit_words.register_object("enforcement.scenario", model=models.Scenario,
                                url=lambda pk: reverse("catalog-scenario", kwargs={"pk": int(pk)}))
