"""Hot-area warnings on the desks' live stream (command_center.push), the street's and the district's:
`warning.raised` when one is raised, `warning.acknowledged` when someone takes note of it, `warning.expired`
when it cools down; and the open warnings a desk
starts with (its user's areas). Each carries the grid's boundary, which the desk's map hatches."""
from analytics.models import HotspotWarning
from analytics.selectors import warnings as warning_selectors
from command_center import push

WARNING_RAISED = "warning.raised"
WARNING_EXPIRED = "warning.expired"
WARNING_ACKNOWLEDGED = "warning.acknowledged"


def _data(warning) -> dict:
    from analytics.api.serializers import MapWarningSerializer

    return MapWarningSerializer(warning).data


def desk_warnings(user) -> list[dict]:
    """The open (raised or acknowledged) warnings of the user's areas, newest first, as the desk draws them."""
    return [_data(w) for w in warning_selectors.warnings_for(user, open_only=True).order_by("-raised_at", "-pk")]


def _send(kind, payload, message):
    warning = HotspotWarning.objects.select_related("grid", "street", "acknowledged_by").filter(
        pk=payload["warning_id"]).first()
    if warning is None:
        return []
    return push.publish(kind, warning.street_id, warning.path, {"warning": _data(warning)}, once=f"outbox:{message.key}")


def on_warning_raised(payload, message):
    return _send(WARNING_RAISED, payload, message)


def on_warning_expired(payload, message):
    return _send(WARNING_EXPIRED, payload, message)


def on_warning_acknowledged(payload, message):
    return _send(WARNING_ACKNOWLEDGED, payload, message)
