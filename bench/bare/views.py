"""The baseline: the same server, middleware, token authentication and DRF stack as POST /api/v1/events/,
then one validated field and one INSERT."""
from rest_framework import generics, serializers

from bench.bare.models import BareRow


class BareRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = BareRow
        fields = ["id", "note", "created_at"]


class BareRowCreate(generics.CreateAPIView):
    serializer_class = BareRowSerializer

    def perform_create(self, serializer):
        serializer.save(client=self.request.user)
