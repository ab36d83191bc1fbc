"""Hot-area warnings as the asker may see them (their areas)."""
from django.utils.translation import gettext as _

from analytics.choices import OPEN_WARNING_STATUSES
from analytics.models import HotspotWarning
from core.exceptions import NotFound
from core.ids import MAX_ID
from grids import selectors as grid_selectors


def warnings_for(user, *, open_only=False):
    qs = grid_selectors.scope(HotspotWarning.objects.select_related("grid", "street", "acknowledged_by"), user, "path")
    return qs.filter(status__in=OPEN_WARNING_STATUSES) if open_only else qs


def get_warning_for(user, warning_id) -> HotspotWarning:
    try:
        warning_id = int(warning_id)
        if not 0 < warning_id <= MAX_ID:
            raise ValueError(warning_id)
        return warnings_for(user).get(pk=warning_id)
    except (TypeError, ValueError, HotspotWarning.DoesNotExist):
        raise NotFound(_("预警不存在。"))
