"""Asynchronous intake's HTTP side (RFC 7240 `Prefer: respond-async`): thin, the rules are in
command_center.submissions.

- `POST /api/v1/events/` with `Prefer: respond-async` (JSON) → 202, `Location` of the submission;
- `POST /api/v1/event-submissions/` `{"events": [...]}` (up to EVENT_SUBMISSION_BULK_MAX) → 202;
- `GET /api/v1/event-submissions/{id}/` → pending, then the event (as the synchronous answer shows it) or
  the errors the synchronous answer would have carried (`error_status`, `errors`).
"""
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from command_center import selectors, submissions
from command_center.api.serializers import EventDetailSerializer, EventInputSerializer, context_for
from command_center.choices import SubmissionStatus
from core.exceptions import NotFound

PREFER = OpenApiParameter(
    "Prefer", OpenApiTypes.STR, OpenApiParameter.HEADER,
    description=_("respond-async（RFC 7240，仅 JSON）：只保存上报即答 202，由后台按同一受理规则处理；"
                  "结果在 Location 所指的 /api/v1/event-submissions/{id}/ 查询。积压过多时答 503 并带 Retry-After。"),
)
POLL_AFTER_SECONDS = "1"  # Retry-After on a pending submission: when polling again makes sense


def prefers_async(request) -> bool:
    """`Prefer: respond-async` (RFC 7240: comma-separated preferences, each maybe with parameters), on a
    JSON body (report photos come as multipart: those are answered synchronously, the preference ignored)."""
    prefer = request.headers.get("Prefer", "")
    wanted = any(p.split(";", 1)[0].split("=", 1)[0].strip().lower() == "respond-async" for p in prefer.split(","))
    return wanted and (request.content_type or "").split(";")[0].strip().lower() == "application/json"


def location_of(sub) -> str:
    return f"/api/v1/event-submissions/{sub.pk}/"


def _accepted(sub) -> dict:
    return {"id": sub.pk, "status": sub.status, "location": location_of(sub)}


def accept_one(request) -> Response:
    """The 202 answer to `POST /api/v1/events/` with `Prefer: respond-async`."""
    sub, _created = submissions.submit(request.user, request.data, request.headers.get("Idempotency-Key"),
                                       language=get_language() or "")
    return Response(_accepted(sub), status=status.HTTP_202_ACCEPTED, headers={
        "Location": location_of(sub), "Preference-Applied": "respond-async", "Retry-After": POLL_AFTER_SECONDS})


class SubmissionAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=SubmissionStatus.choices)
    location = serializers.CharField(help_text=_("查询处理结果的地址"))


class SubmissionsAcceptedSerializer(serializers.Serializer):
    submissions = SubmissionAcceptedSerializer(many=True)


class EventSubmissionBulkSerializer(serializers.Serializer):
    events = EventInputSerializer(many=True, help_text=_("每条与 POST /api/v1/events/ 的 JSON 相同；最多 500 条"))


BACKLOGGED = OpenApiResponse(
    # The one error shape (core.api.schema's `Error`), with what this 503 means.
    inline_serializer("Error", {"detail": serializers.CharField(), "code": serializers.CharField()}),
    description=_("待处理的上报已达上限（code backlog_full，EVENT_SUBMISSION_MAX_BACKLOG）：按 Retry-After 秒后重试；"
                  "什么也没有保存。数据库繁忙时同样答 503（code busy）。"))
ACCEPT_RESPONSES = {
    202: OpenApiResponse(SubmissionAcceptedSerializer, description=_("已保存，待处理：Location 为提交的地址（Preference-Applied: respond-async）。")),
    503: BACKLOGGED,
}


class SubmissionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=SubmissionStatus.choices)
    created_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)
    event_id = serializers.IntegerField(allow_null=True, help_text=_("处理成功时生成（或重试时找回）的事件"))
    event_url = serializers.CharField(allow_null=True)
    event = EventDetailSerializer(allow_null=True, help_text=_("与同步上报的应答相同的事件内容"))
    error_status = serializers.IntegerField(allow_null=True, help_text=_("未通过时，同步上报会返回的 HTTP 状态码"))
    errors = serializers.JSONField(allow_null=True, help_text=_("未通过时，同步上报会返回的错误内容（同样的 JSON 形式）"))


class EventSubmissionViewSet(viewsets.ViewSet):
    """Asynchronous intake: bulk submissions and each submission's outcome."""

    lookup_value_regex = r"[0-9]+"

    @extend_schema(
        request=EventSubmissionBulkSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, description=_(
            "重试整批时带同一个键：第 i 条的键为「键:i」，返回同样的提交；同一个键配不同内容返回 422。"))],
        responses={202: SubmissionsAcceptedSerializer, 503: BACKLOGGED},
    )
    def create(self, request):
        """Submit up to 500 reports at once (`{"events": [...]}`, each as `POST /api/v1/events/` takes it):
        202 with each one's submission and its location, processed as `Prefer: respond-async` reports."""
        data = request.data
        events = data.get("events") if isinstance(data, dict) else None
        subs, _created = submissions.submit_many(request.user, events, request.headers.get("Idempotency-Key"),
                                                 language=get_language() or "")
        return Response({"submissions": [_accepted(s) for s in subs]}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: SubmissionSerializer})
    def retrieve(self, request, pk=None):
        """A submission's outcome, for its client (or staff): `pending`, then `done` with the event or
        `failed` with the errors."""
        sub = submissions.get_for(request.user, pk)
        event = None
        if sub.event_id is not None:
            try:
                event = EventDetailSerializer(selectors.get_event_for(request.user, sub.event_id, detail=True),
                                              context=context_for(request)).data
            except NotFound:  # staff outside the event's areas: the id and link only
                event = None
        body = {
            "id": sub.pk, "status": sub.status, "created_at": sub.created_at.isoformat(),
            "processed_at": sub.processed_at.isoformat() if sub.processed_at else None,
            "event_id": sub.event_id, "event_url": f"/api/v1/events/{sub.event_id}/" if sub.event_id else None,
            "event": event, "error_status": sub.error_status, "errors": sub.errors,
        }
        headers = {"Retry-After": POLL_AFTER_SECONDS} if sub.status == SubmissionStatus.PENDING else {}
        return Response(body, headers=headers)  # (SubmissionSerializer documents it: `event` is serialized already)
