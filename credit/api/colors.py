"""Credit colours of subjects for maps and dashboards (thin: credit.display does the reading)."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from django.utils.translation import gettext as _
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import ValidationFailed
from credit import display
from grids import selectors as grid_selectors


class ColorsView(APIView):
    MAX_ROWS = 20000

    @extend_schema(
        parameters=[
            OpenApiParameter("bbox", OpenApiTypes.STR, description="min_lng,min_lat,max_lng,max_lat: active subjects in the box"),
            OpenApiParameter("ids", OpenApiTypes.STR, description="comma-separated subject ids (at most 1000)"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """{"colors": {subject id: "green"|"yellow"|"red"}, "counts", "truncated"} for the subjects the
        user may see; subjects not scored yet are absent. Give `bbox` (map) or `ids` (a list)."""
        bbox = grid_selectors.parse_bbox(request.query_params.get("bbox"))
        ids = display.parse_ids(request.query_params.get("ids"))
        if bbox is None and ids is None:
            raise ValidationFailed(fields={"bbox": [_("请给出 bbox 或 ids。")]})
        colors, truncated, counts = display.colors_for(request.user, bbox=bbox, ids=ids, limit=self.MAX_ROWS)
        return Response({"colors": {str(k): v for k, v in colors.items()}, "counts": counts, "truncated": truncated})
