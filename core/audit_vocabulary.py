"""The kernel's own words for the audit page: sign-in events (core.login_guard). Registered from
CoreConfig.ready(); each app registers its own in the same way (core.audit_words)."""
from django.utils.translation import gettext_lazy as _

from core import audit_words


def register():
    from django.contrib.auth import get_user_model

    audit_words.register_actions({
        "auth.login_failed": _("登录失败"), "auth.login_refused": _("登录被拒绝（已锁定）"),
        "auth.locked_out": _("账号或地址被锁定"),
    })
    audit_words.register_object("auth.user", label=_("账号"), model=get_user_model(), fields={
        "roles": _("角色"), "path": _("登录页面"), "failures": _("连续失败次数"), "locked_until": _("锁定至")})
