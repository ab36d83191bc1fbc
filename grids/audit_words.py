"""Grids' words for the audit page (core.audit_words). Registered from GridsConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from core import audit_words


def register():
    from grids import models

    audit_words.register_actions({
        "area.created": _("新建区域"), "area.updated": _("修改区域"), "areas.imported": _("导入区域边界"),
        "subject.created": _("新建管理对象"), "subject.updated": _("修改管理对象"),
        "officer.moved": _("队员位置上报"), "officer.duty_status": _("队员在岗状态变更"),
        "notice.sent": _("发送一键通知"), "user.created": _("新建账号"), "user.updated": _("修改账号"),  # grids.accounts
        "user.deactivated": _("停用账号"), "user.activated": _("启用账号"), "user.password_reset": _("重置密码"),
        "officer.skills_granted": _("授予队员兼办技能"), "demo.loaded": _("载入演示数据"),
    })
    for model in (models.Area, models.Subject, models.SubjectCategory, models.Department, models.Team, models.Officer,
                  models.Notice, models.Tag):
        audit_words.register_object(model._meta.label_lower, model=model)
    audit_words.register_object("demo", label=_("演示数据"))
