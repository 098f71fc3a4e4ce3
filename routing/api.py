"""Routing over the API: the what-if (the pipeline's answer for an event, storing nothing) and cadences."""

import django_filters
from django.db.models import Count
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals.api import ActionOutputSerializer, IsPerson, RegenerateInputSerializer, decision_answer
from config.filters import IdFilter
from leads.api import CaptureInputSerializer
from leads.permissions import is_manager, scope_to_user
from routing import cadences
from routing.models import Cadence, Enrollment
from routing.regenerate import action_regenerate
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


class ActionRegenerateApi(APIView):
    """A new draft of a pending action (POST /api/v1/actions/{id}/regenerate/): drafting is routing's, the
    decision approvals'; a person's login is required, like every decision on an action."""

    permission_classes = [IsPerson]

    @extend_schema(request=RegenerateInputSerializer, responses={200: ActionOutputSerializer}, summary="Regenerate")
    def post(self, request, pk: int):
        return decision_answer(request, pk, RegenerateInputSerializer, action_regenerate)


class CadenceOutputSerializer(serializers.ModelSerializer):
    steps = serializers.IntegerField(source="step_total", read_only=True)

    class Meta:
        model = Cadence
        fields = ["id", "name", "active", "trigger", "trigger_stage", "trigger_hours", "workflow", "steps"]


class CadenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cadences (read-only here; managers edit them in the admin): the ids an integration enrolls leads with."""

    serializer_class = CadenceOutputSerializer
    queryset = Cadence.objects.annotate(step_total=Count("steps")).order_by("name")
    lookup_value_regex = r"\d+"


class EnrollmentOutputSerializer(serializers.ModelSerializer):
    cadence_name = serializers.CharField(source="cadence.name", read_only=True)

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "lead",
            "cadence",
            "cadence_name",
            "status",
            "position",
            "next_run_at",
            "started_at",
            "trigger",
            "stop_kind",
            "stop_reason",
            "ended_at",
            "last_error",
        ]


class EnrollInputSerializer(serializers.Serializer):
    lead = serializers.IntegerField(min_value=1)
    cadence = serializers.IntegerField(min_value=1)


class StopInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EnrollmentFilter(django_filters.FilterSet):
    lead = IdFilter(field_name="lead_id")
    cadence = IdFilter(field_name="cadence_id")
    status = django_filters.ChoiceFilter(choices=Enrollment.Status.choices)

    class Meta:
        model = Enrollment
        fields = ["lead", "cadence", "status"]


class EmptyInputSerializer(serializers.Serializer):
    pass


class EnrollmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Leads in cadences, scoped like leads. An integration (the CRM) or a person enrolls (POST) and stops them."""

    serializer_class = EnrollmentOutputSerializer
    filterset_class = EnrollmentFilter
    lookup_value_regex = r"\d+"

    # What the schema generator reads (it has no user); requests go through get_queryset.
    queryset = Enrollment.objects.none()

    def get_queryset(self):
        return scope_to_user(
            Enrollment.objects.select_related("cadence").order_by("-created_at", "-id"),
            self.request.user,
            owner_path="lead__owner",
        )

    @extend_schema(request=EnrollInputSerializer, responses={201: EnrollmentOutputSerializer}, summary="Enroll")
    def create(self, request):
        """Start a cadence for a lead now (409 when the lead is already in it)."""
        data = EnrollInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment = cadences.enrollment_start(
            lead_id=data.validated_data["lead"], cadence_id=data.validated_data["cadence"], user=request.user
        )
        return Response(EnrollmentOutputSerializer(enrollment).data, status=201)

    def _change(self, request, pk, operation, input_class=EmptyInputSerializer):
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment = operation(enrollment_id=int(pk), user=request.user, **data.validated_data)
        return Response(EnrollmentOutputSerializer(enrollment).data)

    @extend_schema(request=StopInputSerializer, responses={200: EnrollmentOutputSerializer}, summary="Stop")
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return self._change(request, pk, cadences.enrollment_stop, StopInputSerializer)

    @extend_schema(request=None, responses={200: EnrollmentOutputSerializer}, summary="Pause")
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._change(request, pk, cadences.enrollment_pause)

    @extend_schema(request=None, responses={200: EnrollmentOutputSerializer}, summary="Resume")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._change(request, pk, cadences.enrollment_resume)

    @extend_schema(request=None, responses={200: EnrollmentOutputSerializer}, summary="Skip the next step")
    @action(detail=True, methods=["post"])
    def skip(self, request, pk=None):
        return self._change(request, pk, cadences.enrollment_skip)
