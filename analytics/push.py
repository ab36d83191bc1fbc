"""`warning.raised` on the desks' live stream (command_center.push): the street's and the district's."""
from analytics.models import HotspotWarning
from command_center import push

WARNING_RAISED = "warning.raised"


def on_warning_raised(payload, message):
    from analytics.api.serializers import WarningSerializer

    warning = HotspotWarning.objects.select_related("grid", "street", "acknowledged_by").filter(
        pk=payload["warning_id"]).first()
    if warning is None:
        return []
    return push.publish(WARNING_RAISED, warning.street_id, warning.path,
                        {"warning": WarningSerializer(warning).data}, once=f"outbox:{message.key}")
