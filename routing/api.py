"""What-if over the API: the pipeline's answer for an event, storing nothing."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.api import CaptureInputSerializer
from leads.permissions import is_manager
from routing.whatif import simulate_event


class IsManagerOrIntegration(permissions.BasePermission):
    """Simulation shows every routing rule's effect: managers and integrations (API keys) only."""

    message = "Simulating routing needs a manager's login or an API key."

    def has_permission(self, request, view):
        return getattr(request.user, "is_api_key", False) or is_manager(request.user)


SIMULATION_ANSWER = inline_serializer(
    "SimulationAnswer",
    {
        "lead": serializers.DictField(),
        "qualification": serializers.DictField(),
        "route": serializers.DictField(allow_null=True),
        "first_response": serializers.DictField(allow_null=True),
    },
)


class SimulateApi(APIView):
    """Answer what the pipeline would do with an event now, and store nothing."""

    permission_classes = [permissions.IsAuthenticated, IsManagerOrIntegration]

    @extend_schema(
        request=CaptureInputSerializer,
        responses={200: SIMULATION_ANSWER},
        summary="Simulate qualification, routing and the first-response policy for an event",
    )
    def post(self, request):
        serializer = CaptureInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(simulate_event(serializer.to_capture_event()))
