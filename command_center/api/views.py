"""Thin views: scoping comes from command_center.selectors, every write goes through services."""
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import services as case_services
from cases.api import serializers as case_serializers
from cases.api import views as case_views
from cases.choices import Origin as CaseOrigin
from cases.choices import PartyKind
from command_center import dispatch, selectors
from command_center import photos as event_photos
from command_center.api import answers, filters
from command_center.api import submissions as async_intake
from command_center.api.serializers import (
    ApproveInputSerializer, CandidatesSerializer, CloseInputSerializer, ConcludeInputSerializer, DeliberateInputSerializer,
    DeliberationSerializer, MeetingInputSerializer, DispatchInputSerializer, EventDetailSerializer,
    EventInputSerializer, EventMultipartInputSerializer, EventPhotoSerializer, EventSerializer, MergeInputSerializer,
    PhotoUploadSerializer, PublicNoteInputSerializer, ReasonInputSerializer, ResolveInputSerializer, SeverityInputSerializer,
    TransferInputSerializer, context_for, is_plain_intake,
)
from command_center.dashboard import selectors as dashboard_selectors
from command_center.models import Event
from command_center.services import deliberation, escalation, intake, review, transitions
from command_center.services import photos as photo_writes
from core.api import preconditions
from core.api.parsers import JSONParser
from core.api.permissions import roles_required
from core.exceptions import DomainError
from core.roles import BUREAU_STAFF, DISPATCHER, TEAM_LEADER

IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
    description=gettext_lazy("必填：事件的 ETag（如 \"12-v3\"，来自 GET 的 ETag 响应头）。缺少时返回 428；"
                             "若事件已被他人修改则返回 412，不做任何更改。"),
)
_ERROR = inline_serializer("Error", {"detail": serializers.CharField(), "code": serializers.CharField()})
# Every state-changing action answers these besides its 200 (and the usual 400/403/404/409).
ACTION_RESPONSES = {
    200: EventDetailSerializer,
    412: OpenApiResponse(_ERROR, description=gettext_lazy("If-Match 与事件当前版本不符（code stale_version）：重新读取后再试。")),
    428: OpenApiResponse(_ERROR, description=gettext_lazy(
        "缺少 If-Match（code if_match_required）：带上 GET /api/v1/events/{id}/ 返回的 ETag。")),
}
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
    description=gettext_lazy("重试时带同一个键：返回第一次创建的事件（200）；同一个键配不同内容返回 422。"),
)


def expected_version(request, event_id) -> int | None:
    """The event's version named by If-Match (core.api.preconditions: 428 without it, 412 when stale)."""
    return preconditions.expected_version(
        request, event_id,
        missing=_("请在 If-Match 请求头中带上事件的 ETag（先 GET /api/v1/events/{id}/ 读取），以免覆盖他人的更改。"),
        stale=_("If-Match 与该事件的 ETag 不符，请刷新后重试。"))


class EventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Events: intake (POST), lists and details scoped by the user's areas, one POST per action."""

    serializer_class = EventSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_class = filters.EventFilter
    ordering_fields = ["id", "created_at", "updated_at"]
    search_fields = ["description", "address", "external_id"]

    def get_queryset(self):
        return selectors.events_for(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **context_for(self.request)}

    def get_serializer_class(self):
        return EventDetailSerializer if self.action != "list" else EventSerializer

    def _detail(self, request, event, status_code=status.HTTP_200_OK, headers=None):
        """The detail answer of an event (or its id: read with everything the detail shows)."""
        if not isinstance(event, Event):
            event = selectors.get_event_for(request.user, event, detail=True)
        body = EventDetailSerializer(event, context=context_for(request)).data
        return Response(body, status=status_code, headers={"ETag": event.etag, **(headers or {})})

    @extend_schema(request={"application/json": EventInputSerializer,
                            "multipart/form-data": EventMultipartInputSerializer},
                   parameters=[IDEMPOTENCY_KEY, async_intake.PREFER],
                   responses={201: EventDetailSerializer, 200: EventDetailSerializer, **async_intake.ACCEPT_RESPONSES})
    def create(self, request):
        """Report an event: it is located, routed, given its deadlines. A retry returns the first one.
        As multipart/form-data it may carry report photos (`photos`, repeated). With `Prefer: respond-async`
        (JSON) it is only stored and answered 202: see /api/v1/event-submissions/."""
        if async_intake.prefers_async(request):
            return async_intake.accept_one(request)
        plain = is_plain_intake(request.data)
        if plain:  # intake cleans it as the serializer would: see is_plain_intake
            fields, files = request.data, []
        else:
            data = EventMultipartInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            fields = dict(data.validated_data)
            files = fields.pop("photos", None) or []
        try:
            event, created = intake.intake_event(
                request.user, fields, idempotency_key=request.headers.get("Idempotency-Key"), photos=files,
            )
        except DomainError:
            if plain:  # input the serializer refuses gets its answer, whatever intake found first
                EventInputSerializer(data=request.data).is_valid(raise_exception=True)
            raise
        location = {"Location": f"{request.path.rstrip('/')}/{event.pk}/"}
        if not created:  # a retry: the first event as it stands now
            return self._detail(request, event.pk, headers=location)
        event = selectors.detail_after_write(request.user, event)
        # EventDetailSerializer's answer (the schema's), built from the rows intake wrote: answers.py.
        return Response(answers.event_detail(event, context_for(request)), status=status.HTTP_201_CREATED,
                        headers={"ETag": event.etag, **location})

    @extend_schema(responses={200: EventDetailSerializer})
    def retrieve(self, request, pk=None):
        """One event with its deadlines, timeline and assignments; the ETag header carries its version."""
        return self._detail(request, pk)

    def _act(self, request, pk, fn, input_class=None, rename=None):
        event = selectors.get_event_for(request.user, pk)
        version = expected_version(request, event.pk)
        kwargs = {}
        if input_class is not None:
            data = input_class(data=request.data)
            data.is_valid(raise_exception=True)
            kwargs = {(rename or {}).get(k, k): v for k, v in data.validated_data.items()}
        event = fn(request.user, event, expected_version=version, **kwargs)
        return self._detail(request, event.pk)

    @extend_schema(request=DispatchInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_to(self, request, pk=None):  # not `dispatch`: that name is APIView's request handler
        """Give the event to an officer (dispatcher, or the team leader of its street)."""
        return self._act(request, pk, transitions.dispatch, DispatchInputSerializer)

    @extend_schema(request=None, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The assigned officer signs for it."""
        return self._act(request, pk, transitions.accept)

    @extend_schema(request=ReasonInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """The assigned officer hands it back, with a reason."""
        return self._act(request, pk, transitions.decline, ReasonInputSerializer)

    @extend_schema(request=None, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def arrive(self, request, pk=None):
        """The assigned officer is on site."""
        return self._act(request, pk, transitions.arrive)

    @extend_schema(request={"application/json": ResolveInputSerializer, "multipart/form-data": ResolveInputSerializer},
                   parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser, FormParser])
    def resolve(self, request, pk=None):
        """The assigned officer reports the result (or, after deliberation, its outcome is recorded);
        as multipart/form-data with result photos (`photos`, repeated), all in one transaction."""
        return self._act(request, pk, photo_writes.resolve_with_photos, ResolveInputSerializer, rename={"photos": "files"})

    @extend_schema(methods=["GET"], request=None, responses={200: EventPhotoSerializer(many=True)})
    @extend_schema(methods=["POST"], request={"multipart/form-data": PhotoUploadSerializer},
                   responses={201: EventPhotoSerializer(many=True)})
    @action(detail=True, methods=["get", "post"], url_path="photos", url_name="photos",
            parser_classes=[MultiPartParser, FormParser], pagination_class=None, filter_backends=[])
    def photos(self, request, pk=None):
        """The event's photos; POST adds some (multipart `photos`, repeated; `kind` report or result)."""
        event = selectors.get_event_for(request.user, pk)
        if request.method == "GET":
            return Response(EventPhotoSerializer(event.photos.order_by("uploaded_at", "id"), many=True, context=context_for(request)).data)
        data = PhotoUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = photo_writes.add_photos(request.user, event, data.validated_data.get("photos") or [],
                                 kind=data.validated_data.get("kind"))
        return Response(EventPhotoSerializer(rows, many=True, context=context_for(request)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={
        (200, "image/jpeg"): OpenApiTypes.BINARY, (200, "image/png"): OpenApiTypes.BINARY,
        (200, "image/webp"): OpenApiTypes.BINARY,
    })
    @action(detail=True, methods=["get"], url_path=r"photos/(?P<photo_id>[0-9]+)", url_name="photo", filter_backends=[])
    def photo(self, request, pk=None, photo_id=None):
        """One photo's file, to those who may see the event (never served publicly)."""
        photo = event_photos.get_photo_for(request.user, pk, photo_id)
        response = FileResponse(event_photos.open_photo(photo), content_type=photo.content_type)
        response["Content-Disposition"] = f'inline; filename="event-{photo.event_id}-{photo.pk}.{photo.file.name.rsplit(".", 1)[-1]}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=3600"
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    @extend_schema(request=CloseInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Evaluation (satisfaction 1–5) and closure."""
        return self._act(request, pk, transitions.close, CloseInputSerializer)

    @extend_schema(request=ReasonInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Not our business (不予受理), with a reason."""
        return self._act(request, pk, transitions.reject, ReasonInputSerializer)

    @extend_schema(request=MergeInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """A duplicate: merge it into another event."""
        return self._act(request, pk, transitions.merge, MergeInputSerializer)

    @extend_schema(request=TransferInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        """Hand it to a department (code) or another platform (name)."""
        return self._act(request, pk, transitions.transfer, TransferInputSerializer)

    @extend_schema(request=ReasonInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        """Raise it one step: next rank → team leader → district."""
        return self._act(request, pk, escalation.escalate, ReasonInputSerializer)

    @extend_schema(request=SeverityInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"], url_path="severity")
    def severity(self, request, pk=None):
        """Raise or lower its colour, with a reason; the SLA clock follows the new colour."""
        return self._act(request, pk, transitions.set_severity, SeverityInputSerializer)

    @extend_schema(request=DeliberateInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def deliberate(self, request, pk=None):
        """Send it to co-governance deliberation (红茶议事会) with a topic."""
        return self._act(request, pk, transitions.deliberate, DeliberateInputSerializer)

    @extend_schema(request=MeetingInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"], url_path="deliberation/meetings", url_name="deliberation-meetings")
    def deliberation_meeting(self, request, pk=None):
        """Record a meeting of the event's deliberation: when, where, who attended, the minutes."""
        return self._act(request, pk, deliberation.add_meeting, MeetingInputSerializer)

    @extend_schema(request=ConcludeInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"], url_path="deliberation/conclude", url_name="deliberation-conclude")
    def deliberation_conclude(self, request, pk=None):
        """Record the consensus reached: `close` closes the event, `reopen` gives it back to its officer
        (or the dispatch queue) with a fresh handling deadline."""
        return self._act(request, pk, deliberation.conclude, ConcludeInputSerializer)

    @extend_schema(request=None, responses={200: DeliberationSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="deliberations", url_name="deliberations",
            pagination_class=None, filter_backends=[])
    def deliberations(self, request, pk=None):
        """The event's co-governance deliberations, each with its participants, meetings and consensus."""
        event = selectors.get_event_for(request.user, pk)
        return Response(DeliberationSerializer(selectors.deliberations_of(event), many=True).data)

    @extend_schema(request=ApproveInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The team leader's review passes (street team leader or bureau staff): the event is closed."""
        return self._act(request, pk, review.approve, ApproveInputSerializer)

    @extend_schema(request=ReasonInputSerializer, parameters=[IF_MATCH], responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):  # `return` is Python's
        """Returned for rework (退回重办) with a reason: back to the officer, the handling deadline restarts."""
        return self._act(request, pk, review.return_for_rework, ReasonInputSerializer)

    @extend_schema(request=case_serializers.EventCaseInputSerializer,
                   responses={201: case_serializers.CaseDetailSerializer})
    @action(detail=True, methods=["post"], url_path="file-case", url_name="file-case")
    def file_case(self, request, pk=None):
        """File a case (立案) from the event: its subject, street, matter, facts and day; the body names the
        two or more handlers (cases.services.file_case). One event, one case."""
        event = selectors.get_event_for(request.user, pk)
        data = case_serializers.EventCaseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        case = case_services.file_case(
            request.user, origin=CaseOrigin.EVENT, event_id=event.pk,
            party_kind=v.get("party_kind") or (PartyKind.BUSINESS if event.subject_id else PartyKind.PERSON),
            subject=event.subject, street=event.street, person_name=v.get("person_name", ""),
            person_id_number=v.get("person_id_number", ""), person_phone=v.get("person_phone", ""),
            matter_codes=v.get("matter_codes") or [event.matter_code], facts=v.get("facts") or event.description,
            facts_on=timezone.localdate(event.created_at), handler_ids=v["handler_ids"], procedure=v["procedure"])
        response = case_views.detail_response(request, case.pk, status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/cases/{case.pk}/"
        return response

    @extend_schema(request=PublicNoteInputSerializer, parameters=[IF_MATCH], responses={200: EventDetailSerializer})
    @action(detail=True, methods=["post"], url_path="public-note", url_name="public-note")
    def public_note(self, request, pk=None):
        """Publish a note for the public (Open311 status_notes) until the event's next step (dispatcher,
        or the team leader of its street)."""
        return self._act(request, pk, transitions.set_public_note, PublicNoteInputSerializer)

    @extend_schema(responses={200: CandidatesSerializer}, parameters=[OpenApiParameter(
        "limit", OpenApiTypes.INT, description=gettext_lazy("显示前几名（1–200，默认 20）"))])
    @action(detail=True, methods=["get"])
    def candidates(self, request, pk=None):
        """Officers ranked for this event (availability, position, capability, rank, distance, load):
        the first `limit` with the reasons for each place, how many each reason leaves out, and the
        dispatch mode that applies now."""
        event = selectors.get_event_for(request.user, pk)
        return Response(dispatch.ranking_for(request.user, event, limit=request.query_params.get("limit")))


class CommandSnapshotView(APIView):
    """The dashboard's state for the user's areas: open events, officers, and each stream's sequence
    number. A client (re)connecting to /ws/command/, or seeing a gap in a stream's seq, fetches this and
    applies only messages with a higher seq."""

    permission_classes = [roles_required(DISPATCHER, TEAM_LEADER, BUREAU_STAFF)]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(dashboard_selectors.snapshot_for(request.user))
