"""Thin views: scoping from cases.selectors, every write through cases.services."""
import keyword

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from cases import documents, selectors, services
from cases.api import serializers as s
from cases.choices import Origin, PartyKind, Status
from cases.models import Case
from core.api import preconditions
from core.api.permissions import read_any_write_roles
from core.api.parsers import JSONParser
from core.exceptions import ValidationFailed
from core.roles import BUREAU_STAFF, TEAM_LEADER
from grids import selectors as grid_selectors

IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
    description=gettext_lazy("必填：案件的 ETag（如 \"12-v3\"，来自 GET 的 ETag 响应头）。缺少时返回 428；"
                             "若案件已被他人修改则返回 412，不做任何更改。"),
)
_ERROR = inline_serializer("CaseError", {"detail": serializers.CharField(), "code": serializers.CharField()})
ACTION_RESPONSES = {
    200: s.CaseDetailSerializer,
    412: OpenApiResponse(_ERROR, description=gettext_lazy("If-Match 与案件当前版本不符（code stale_version）。")),
    428: OpenApiResponse(_ERROR, description=gettext_lazy("缺少 If-Match（code if_match_required）。")),
}


def expected_version(request, case_id):
    return preconditions.expected_version(
        request, case_id,
        missing=_("请在 If-Match 请求头中带上案件的 ETag（先 GET /api/v1/cases/{id}/ 读取），以免覆盖他人的更改。"),
        stale=_("If-Match 与该案件的 ETag 不符，请刷新后重试。"))


class CaseFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Status.choices)
    overdue = filters.BooleanFilter()
    party_kind = filters.ChoiceFilter(choices=PartyKind.choices)
    subject = filters.NumberFilter(field_name="subject_id")
    street = filters.CharFilter(field_name="street__code")

    class Meta:
        model = Case
        fields = ["status", "overdue", "party_kind", "subject", "street"]


def full_party(user, case) -> bool:
    return selectors.may_see_person(user, case)


def detail_response(request, case_id, status_code=status.HTTP_200_OK) -> Response:
    """A case's detail with its ETag; a handler reading a private party's data in full is recorded."""
    case = selectors.get_case_for(request.user, case_id, detail=True)
    full = full_party(request.user, case)
    if full and case.party_kind == PartyKind.PERSON and request.method == "GET":
        services.record_view(request.user, case, what=_("查看当事人个人信息（API）"))
    body = s.CaseDetailSerializer(case, context={"request": request, "full_party": full}).data
    return Response(body, status=status_code, headers={"ETag": case.etag})


class CaseViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Cases (执法办案): filing, the queue scoped by street, one POST per step."""

    serializer_class = s.CaseSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_class = CaseFilter
    ordering_fields = ["id", "filed_at", "step_due_at"]
    search_fields = ["number"]
    parser_classes = [JSONParser]

    def get_queryset(self):
        return selectors.cases_for(self.request.user).prefetch_related("matters__matter").order_by("-filed_at", "-id")

    def _detail(self, request, case_id, status_code=status.HTTP_200_OK):
        return detail_response(request, case_id, status_code)

    @extend_schema(request=s.CaseInputSerializer, responses={201: s.CaseDetailSerializer})
    def create(self, request):
        """File a case (立案): directly (a subject or a person, the matters, facts and two or more handlers), or
        from an inspection finding (`finding`: it gives the subject, street, matter, facts and day; a finding
        of another street 404, one that did not fail 400, one already filed 409)."""
        data = s.CaseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        subject = grid_selectors.get_subject_for(request.user, v["subject"]) if v.get("subject") else None
        street = None
        if v.get("street"):
            street = grid_selectors.area_list_for(request.user).filter(code=v["street"]).first()
            if street is None:
                raise ValidationFailed(fields={"street": [_("镇街不存在。")]})
        origin = {"origin": Origin.FINDING, "finding": v["finding"]} if v.get("finding") else {}
        case = services.file_case(
            request.user, party_kind=v.get("party_kind", ""), subject=subject, street=street,
            person_name=v.get("person_name", ""), person_id_number=v.get("person_id_number", ""),
            person_phone=v.get("person_phone", ""), matter_codes=v.get("matter_codes"), facts=v.get("facts", ""),
            facts_on=v.get("facts_on"), handler_ids=v["handler_ids"], procedure=v["procedure"], **origin)
        response = self._detail(request, case.pk, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path.rstrip('/')}/{case.pk}/"
        return response

    @extend_schema(responses={200: s.CaseDetailSerializer})
    def retrieve(self, request, pk=None):
        """One case with its matters, evidence and full-process record; the ETag header carries its version.
        A private party's name, ID number and phone are shown in full to the handlers only (and the view is
        recorded)."""
        return self._detail(request, pk)

    def _act(self, request, pk, fn, input_class=None, convert=None, status_code=status.HTTP_200_OK):
        case = selectors.get_case_for(request.user, pk)
        version = expected_version(request, case.pk)
        kwargs = {}
        if input_class is not None:
            data = input_class(data=request.data)
            data.is_valid(raise_exception=True)
            kwargs = convert(data.validated_data) if convert else dict(data.validated_data)
        fn(request.user, case, expected_version=version, **kwargs)
        return self._detail(request, case.pk, status_code)

    def _post(name, fn, input_class=None, convert=None, doc="", parsers=None, status_code=status.HTTP_200_OK):
        def view(self, request, pk=None):
            return self._act(request, pk, fn, input_class, convert, status_code)
        attr = name.replace("-", "_")
        view.__name__ = attr + "_" if keyword.iskeyword(attr) else attr
        view.__doc__ = doc
        responses = dict(ACTION_RESPONSES)
        if status_code != status.HTTP_200_OK:
            responses[status_code] = responses.pop(200)
        request_schema = input_class if parsers is None else {"multipart/form-data": input_class}
        decorated = extend_schema(request=request_schema, parameters=[IF_MATCH], responses=responses)(view)
        kwargs = {"parser_classes": parsers} if parsers else {}
        return action(detail=True, methods=["post"], url_path=name, url_name=name, **kwargs)(decorated)

    investigate = _post("investigate", services.investigate, doc="立案 → 调查取证（承办人）。")
    evidence = _post("evidence", services.add_evidence, s.EvidenceInputSerializer, parsers=[MultiPartParser],
                     status_code=status.HTTP_201_CREATED,
                     doc="添加证据文件（承办人；只增不改，记录 SHA-256、添加人与时间）。")
    submit = _post("submit", services.submit, s.SubmitInputSerializer,
                   doc="调查终结，提出每个事项的拟处理结果，提交队长审核（承办人；须已有证据）。")
    approve = _post("approve", services.approve, s.NoteInputSerializer, doc="审核通过（本街道执法队长）。")
    return_ = _post("return", services.return_case, s.ReasonInputSerializer,
                    doc="退回重办，须说明理由（本街道执法队长）：案件回到承办人调查取证。")
    notify = _post("notify", services.notify, doc="事先告知当事人事实、理由、依据和权利（承办人）。")
    statement = _post("statement", services.record_statement, s.StatementInputSerializer,
                      doc="记录当事人的陈述申辩（承办人）。")
    hearing = _post("hearing", services.record_hearing, s.HearingInputSerializer,
                    doc="记录听证（承办人；仅拟处罚达到听证标准时），其后决定须经法制审核。")
    request_legal_review = _post("request-legal-review", services.request_legal_review,
                                 doc="提交法制审核（承办人）。")
    legal_review = _post("legal-review", services.legal_review, s.LegalReviewInputSerializer,
                         doc="法制审核意见：同意，或退回并说明理由（区局工作人员，承办人除外）。")
    decide = _post("decide", services.decide, s.DecideInputSerializer,
                   doc="作出决定（普通程序：本街道执法队长，须已告知，需法制审核的须已同意；简易程序：承办人当场决定）。"
                       "决定向信用记录写入违法处罚记录。")
    serve = _post("serve", services.serve, s.ServeInputSerializer, doc="送达决定书（承办人），同时公示。")
    execute = _post("execute", services.execute, s.RequiredNoteInputSerializer, doc="登记执行情况（承办人）。")
    close = _post("close", services.close, s.NoteInputSerializer, doc="结案（本街道执法队长）。")
    transfer = _post("transfer", services.transfer, s.TransferInputSerializer,
                     convert=lambda v: {"target": v["target"], "reason": v["reason"],
                                        "to_street_code": v.get("to_street", ""),
                                        "to_department_code": v.get("to_department", "")},
                     doc="移送其他部门或镇街（本街道执法队长），待对方接收。")
    accept_transfer = _post("accept-transfer", services.answer_transfer, s.AcceptTransferInputSerializer,
                            doc="接收或拒绝移送（接收街道的执法队长；移送部门由区局工作人员代接收）。")
    appeal = _post("appeal", services.appeal, s.AppealInputSerializer,
                   doc="登记当事人的复议/申诉（执法队长或区局）；未决期间该对象信用显示“复议/申诉中”。")
    appeal_decision = _post("appeal-decision", services.decide_appeal, s.AppealDecisionInputSerializer,
                            doc="复议/申诉结果：维持、变更或撤销（撤销时撤回信用记录和公示）。")
    quality_review = _post("quality-review", services.quality_review, s.QualityReviewInputSerializer,
                           doc="案卷评查：按评查项目逐项打分（区局工作人员，承办人除外；仅已结案件）。")
    del _post

    @extend_schema(responses={200: s.QualityScoresSerializer}, filters=False)
    @action(detail=False, methods=["get"], url_path="quality-scores", url_name="quality-scores",
            filter_backends=[], pagination_class=None)
    def quality_scores(self, request):
        """案卷评查 figures over the cases the user may see: the average score per team and per handler."""
        return Response(s.QualityScoresSerializer(selectors.quality_scores(request.user)).data)

    @extend_schema(parameters=[OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                enum=list(documents.KINDS))],
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<kind>notice|decision|file)",
            url_name="document")
    def document(self, request, pk=None, kind=None):
        """The notice (告知书), the decision (决定书) or the whole case file (案卷) as PDF; each export is
        recorded. The notice exists once the case was notified, the decision once decided."""
        case, body = services.export_document(request.user, pk, kind=kind)
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{case.number}-{kind}.pdf"'
        return response


class DisclosureViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """执法公示: decided cases open to the public, no login. A business is named; a private person never
    (no name, ID number or phone)."""

    serializer_class = s.DisclosureSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [AnonRateThrottle]  # open to anyone: per client address, like the token endpoint
    filter_backends = []

    def get_queryset(self):
        return selectors.disclosures()


class ColorAppealViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Appeals against a subject's credit colour alone (复议/申诉 of the colour): read by anyone in the
    subject's areas; lodged and decided by the street's team leader or bureau staff."""

    serializer_class = s.ColorAppealSerializer
    permission_classes = [read_any_write_roles(TEAM_LEADER, BUREAU_STAFF)]
    lookup_value_regex = r"[0-9]+"
    filterset_fields = {"subject": ["exact"], "result": ["exact"]}
    parser_classes = [JSONParser]

    def get_queryset(self):
        return selectors.color_appeals_for(self.request.user)

    @extend_schema(request=s.ColorAppealInputSerializer, responses={201: s.ColorAppealSerializer})
    def create(self, request):
        """Record a subject's appeal against its colour: its live credit facts are contested (the credit
        shows under_review) until the outcome. No live fact to contest, or one open already: 409."""
        data = s.ColorAppealInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        item = services.appeal_color(request.user, v["subject"], kind=v["kind"], grounds=v["grounds"],
                                     lodged_on=v.get("lodged_on"))
        return Response(s.ColorAppealSerializer(item).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path.rstrip('/')}/{item.pk}/"})

    @extend_schema(request=s.ColorAppealDecisionInputSerializer, responses={200: s.ColorAppealSerializer})
    @action(detail=True, methods=["post"], url_path="decide", url_name="decide")
    def decide(self, request, pk=None):
        """The outcome, applied to credit: upheld (facts stand), changed (the named facts withdrawn) or
        revoked (all withdrawn); the subject is rescored."""
        data = s.ColorAppealDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        item = services.decide_color_appeal(request.user, pk, result=v["result"], note=v["note"],
                                            withdraw_fact_ids=v.get("withdraw_fact_ids", []))
        return Response(s.ColorAppealSerializer(selectors.get_color_appeal_for(request.user, item.pk)).data)
