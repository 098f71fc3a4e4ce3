"""Actions over the API: list, approve, reject — the same services as the portal buttons."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from approvals.models import Action
from approvals.selectors import action_list
from approvals.services import action_approve, action_reject


class IsPerson(permissions.BasePermission):
    """Deciding an action is a person's call: API keys may read actions but not approve or reject them."""

    message = "Approving or rejecting needs a person's login; API keys can only read actions."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and not getattr(request.user, "is_api_key", False))


class ActionOutputSerializer(serializers.ModelSerializer):
    body = serializers.CharField(read_only=True)
    to = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = [
            "id",
            "lead",
            "workflow",
            "kind",
            "status",
            "to",
            "body",
            "confidence",
            "reasoning",
            "escalated",
            "escalation_reason",
            "edited",
            "decided_by",
            "decided_at",
            "rejection_reason",
            "error",
            "created_at",
        ]

    def get_to(self, action) -> str:
        return action.payload.get("to", "")

    def get_decided_by(self, action) -> str | None:
        return action.decided_by.get_username() if action.decided_by_id else None


class ApproveInputSerializer(serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class ActionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Action.Status.choices)
    workflow = django_filters.CharFilter()
    lead = django_filters.NumberFilter(field_name="lead_id")

    class Meta:
        model = Action
        fields = ["status", "workflow", "lead"]


class ActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Actions the system proposed, scoped like leads: a rep sees their own leads' actions."""

    serializer_class = ActionOutputSerializer
    filterset_class = ActionFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return action_list(user=self.request.user)

    @extend_schema(request=ApproveInputSerializer, responses={200: ActionOutputSerializer}, summary="Approve")
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def approve(self, request, pk=None):
        data = ApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = action_approve(action_id=int(pk), user=request.user, body=data.validated_data.get("body"))
        return Response(ActionOutputSerializer(result).data)

    @extend_schema(request=RejectInputSerializer, responses={200: ActionOutputSerializer}, summary="Reject")
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def reject(self, request, pk=None):
        data = RejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = action_reject(action_id=int(pk), user=request.user, reason=data.validated_data["reason"])
        return Response(ActionOutputSerializer(result).data)
