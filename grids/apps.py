from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = _("网格与单位")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from grids import audit_words, spatial
        from grids.models import Area

        audit_words.register()  # the audit page's words (core.audit_words)

        # Any area write, whatever path it took (services, importers, admin, the demo loader), tells
        # the spatial indexes of every process; see grids.spatial.
        post_save.connect(spatial.on_area_changed, sender=Area, dispatch_uid="grids.area_index_saved")
        post_delete.connect(spatial.on_area_changed, sender=Area, dispatch_uid="grids.area_index_deleted")

        # Users' roles, areas and tokens are cached per process (core.refcache): these writes drop them.
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from rest_framework.authtoken.models import Token

        from core import refcache
        from grids.models import AreaMembership

        user_model = get_user_model()
        refcache.watch(refcache.USERS, AreaMembership, Area, user_model, Group, Token, m2m=(user_model.groups.through,))
