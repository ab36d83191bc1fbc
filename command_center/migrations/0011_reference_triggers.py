"""Triggers that tell every process its copy of the SLA policies or webhook subscriptions is stale
(core.refcache)."""
from django.db import migrations

from core.refcache import triggers_operation


class Migration(migrations.Migration):

    dependencies = [
        ("command_center", "0010_review_rule_severity_labels"),
        ("core", "0004_referenceversion"),
    ]

    operations = [
        triggers_operation([
            ("command_center_slapolicy", "sla", None),
            ("command_center_webhooksubscription", "webhooks", None),
            ("command_center_webhooksubscription_areas", "webhooks", None),
        ]),
    ]
