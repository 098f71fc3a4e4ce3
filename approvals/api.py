"""Actions over the API: list, propose, approve, edit, reject, snooze (regenerate is routing.api's)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from approvals import services
from approvals.filters import ActionFilter
from approvals.models import Action, Workflow
from approvals.selectors import action_list


def decision_answer(request, pk, input_class, operation, **fixed) -> Response:
    """Validate ``input_class`` from the body, run one decision on the action, answer it as it now stands."""
    data = input_class(data=request.data)
    data.is_valid(raise_exception=True)
    result = operation(action_id=int(pk), user=request.user, **fixed, **data.validated_data)
    return Response(ActionOutputSerializer(result).data)


class IsPerson(permissions.BasePermission):
    """Deciding an action is a person's call: API keys may read actions but not approve or reject them."""

    message = "Approving or rejecting needs a person's login; API keys can only read actions."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and not getattr(request.user, "is_api_key", False))


class SmsLengthSerializer(serializers.Serializer):
    segments = serializers.IntegerField(source="count", help_text="Segments the text is sent (and billed) as.")
    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
    units = serializers.IntegerField(help_text="GSM-7 septets (an extension character is 2) or UTF-16 code units.")
    because_of = serializers.ListField(
        child=serializers.CharField(), source="causes", help_text="The characters that make it UCS-2."
    )
    summary = serializers.CharField(help_text="'3 segments · UCS-2 because of 🏠'")


class ActionOutputSerializer(serializers.ModelSerializer):
    body = serializers.CharField(read_only=True)
    sms = SmsLengthSerializer(
        source="segmentation", read_only=True, allow_null=True, help_text="An SMS's segments; null for other kinds."
    )
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
            "sms",
            "confidence",
            "reasoning",
            "escalated",
            "escalation_reason",
            "review_by",
            "amount",
            "snoozed_until",
            "not_before",
            "held_reason",
            "version",
            "edited",
            "edit_distance",
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


class VersionedInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you saw; a newer one answers 409 with the current state."
    )


class ApproveInputSerializer(VersionedInputSerializer):
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class EditInputSerializer(VersionedInputSerializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


class RejectInputSerializer(VersionedInputSerializer):
    reason = serializers.CharField(max_length=1000)


class SnoozeInputSerializer(VersionedInputSerializer):
    minutes = serializers.IntegerField(min_value=1, max_value=services.MAX_SNOOZE_MINUTES)


class RegenerateInputSerializer(VersionedInputSerializer):
    instruction = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ProposeInputSerializer(serializers.Serializer):
    lead = serializers.IntegerField(min_value=1)
    workflow = serializers.ChoiceField(choices=Workflow.choices)
    body = serializers.CharField(max_length=5000)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)


class ActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Actions the system proposed, scoped like leads: a rep sees their own leads' actions.

    Deciding (approve, edit, reject, snooze, regenerate) needs a person's login; an
    integration with an API key may propose (POST), under the workflow's Policy.
    """

    serializer_class = ActionOutputSerializer
    filterset_class = ActionFilter
    lookup_value_regex = r"\d+"

    # What the schema generator reads (it has no user); requests go through get_queryset.
    queryset = Action.objects.none()

    def get_queryset(self):
        return action_list(user=self.request.user)

    def _decide(self, request, pk, input_class, operation, **fixed):
        return decision_answer(request, pk, input_class, operation, **fixed)

    @extend_schema(request=ProposeInputSerializer, responses={201: ActionOutputSerializer}, summary="Propose")
    def create(self, request):
        """Propose a message (a quote with its amount, a follow-up…): the workflow's Policy and gates decide."""
        data = ProposeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if getattr(request.user, "is_api_key", False):
            result = services.system_message_propose(
                lead_id=values["lead"], workflow=values["workflow"], body=values["body"], amount=values.get("amount")
            )
        else:
            result = services.message_propose(
                lead_id=values["lead"],
                user=request.user,
                workflow=values["workflow"],
                body=values["body"],
                amount=values.get("amount"),
            )
        return Response(ActionOutputSerializer(result).data, status=201)

    @extend_schema(request=ApproveInputSerializer, responses={200: ActionOutputSerializer}, summary="Approve")
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def approve(self, request, pk=None):
        return self._decide(request, pk, ApproveInputSerializer, services.action_approve)

    @extend_schema(request=EditInputSerializer, responses={200: ActionOutputSerializer}, summary="Edit the draft")
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def edit(self, request, pk=None):
        return self._decide(request, pk, EditInputSerializer, services.action_edit)

    @extend_schema(request=RejectInputSerializer, responses={200: ActionOutputSerializer}, summary="Reject")
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def reject(self, request, pk=None):
        return self._decide(request, pk, RejectInputSerializer, services.action_reject)

    @extend_schema(request=SnoozeInputSerializer, responses={200: ActionOutputSerializer}, summary="Snooze")
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def snooze(self, request, pk=None):
        return self._decide(request, pk, SnoozeInputSerializer, services.action_snooze)
