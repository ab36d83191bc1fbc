"""The review queue and the subject's file for other clients: GET /api/v1/review/ and
GET /api/v1/subjects/{id}/file/ (thin: review_queue and subject_file do the work)."""
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from command_center import review_queue, subject_file
from core.api.pagination import StandardPagination
from core.api.permissions import roles_required
from core.roles import ALL_ROLES


class ReviewItemSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("event 事件 / case 案件 / inspection_plan 检查计划 / appeal 申诉 / color_appeal 信用颜色申诉"))
    id = serializers.IntegerField()
    title = serializers.CharField()
    street = serializers.CharField()
    street_name = serializers.CharField()
    waiting_since = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True, help_text=_("审核时限"))
    url = serializers.CharField(help_text=_("处理该项的页面"))
    api_url = serializers.CharField()


class ReviewQueueView(generics.ListAPIView):
    """The team leader's review queue (待我审核): everything waiting for the user's review in their areas,
    oldest deadline first (paginated). Team leaders and bureau staff only (others 403)."""

    permission_classes = [roles_required(*review_queue.REVIEWER_ROLES)]
    serializer_class = ReviewItemSerializer
    pagination_class = StandardPagination
    filter_backends = []

    def get_queryset(self):
        return review_queue.items_for_request(self.request)


class _Line(serializers.Serializer):
    at = serializers.DateTimeField()
    section = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField(allow_blank=True)


class _Section(serializers.Serializer):
    key = serializers.CharField(help_text=_("events, inspections, cases, color_appeals, deliberations, notices, sensors"))
    title = serializers.CharField()
    items = serializers.ListField(child=serializers.DictField())


class _Credit(serializers.Serializer):
    color = serializers.CharField()
    score = serializers.FloatField()
    computed_at = serializers.DateTimeField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())
    override = serializers.DictField(allow_null=True)
    under_review = serializers.BooleanField(help_text=_("有未决的复议/申诉（针对案件决定或信用颜色）"))
    history = serializers.ListField(child=serializers.DictField())


class SubjectFileSerializer(serializers.Serializer):
    subject = serializers.DictField(help_text=_("对象信息（电话按角色脱敏）"))
    credit = _Credit()
    sections = _Section(many=True)
    timeline = _Line(many=True, help_text=_("各类记录合并的时间线，最新在前"))


class SubjectFileView(APIView):
    """一户一档: the subject's details, credit colour with reasons and history, its events, co-governance,
    notices and sensor readings, and a timeline merging them. 404 outside the user's areas; personal
    data masked for roles that may not see it."""

    permission_classes = [roles_required(*ALL_ROLES)]

    @extend_schema(responses={200: SubjectFileSerializer})
    def get(self, request, pk):
        return Response(SubjectFileSerializer(subject_file.file_for(request.user, pk)).data)
