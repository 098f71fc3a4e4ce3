from rest_framework import generics, serializers

from bench.baseline.models import BaselineEvent


class BaselineSerializer(serializers.ModelSerializer):
    class Meta:
        model = BaselineEvent
        fields = ["id", "channel", "source", "name", "email", "phone", "message", "payload"]


class BaselineCreateApi(generics.CreateAPIView):
    """A bare DRF create: same authentication as the app, one INSERT, nothing else."""

    serializer_class = BaselineSerializer
