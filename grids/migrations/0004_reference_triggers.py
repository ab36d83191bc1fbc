"""Triggers that tell every process its copy of users' roles, areas and tokens is stale (core.refcache):
memberships, groups, the flags that decide what a user may see, area paths, API tokens."""
from django.db import migrations

from core.refcache import triggers_operation


class Migration(migrations.Migration):

    dependencies = [
        ("grids", "0003_area_index_triggers"),
        ("core", "0004_referenceversion"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [
        triggers_operation([
            ("grids_areamembership", "users", None),
            ("grids_area", "users", ("path",)),
            ("auth_user_groups", "users", None),
            ("auth_group", "users", ("name",)),
            ("auth_user", "users", None),
            ("authtoken_token", "users", None),
        ]),
    ]
