"""Who may write the matter catalog: the one rule used by the services, the API and the pages."""

from django.utils.translation import gettext as _

from core.exceptions import Forbidden
from core.roles import BUREAU_STAFF, has_role
from grids.selectors import user_area_paths


def may_edit_catalog(user) -> bool:
    """Bureau staff bound to the whole district: the catalog is the district's."""
    return bool(user is not None and user.is_authenticated and has_role(user, BUREAU_STAFF)
                and user_area_paths(user) is None)


def require_catalog_editor(actor):
    """Refuse anyone but district-bound bureau staff, or the system (None: demo loader, management commands)."""
    if actor is None or may_edit_catalog(actor):
        return
    if not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以维护事项清单。"))
    raise Forbidden(_("事项清单由区级统一维护：您的账号未绑定全区。"))
