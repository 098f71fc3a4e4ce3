"""Capture and read leads over the API. Thin: validation here, work in services."""

from datetime import UTC, timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.choices import Channel, Stage
from leads.filters import LeadFilter
from leads.models import ConsentRecord, Lead
from leads.selectors import lead_list, lead_timeline
from leads.services import (
    CaptureEvent,
    CaptureResult,
    ConsentGiven,
    Evidence,
    consent_opt_out,
    lead_capture,
    lead_stage_set,
    request_fingerprint,
)

# Clocks disagree by seconds to minutes; an event an hour ahead of ours is a wrong time zone.
RECEIVED_AT_SLACK = timedelta(minutes=10)
CAPTURE_ANSWER = inline_serializer(
    "CaptureAnswer",
    {"event": serializers.IntegerField(), "lead": serializers.IntegerField(), "duplicate": serializers.BooleanField()},
)


class ConsentInputSerializer(serializers.Serializer):
    """Consent the person gave with this event: the disclosure text the site showed, kept with its version."""

    channel = serializers.ChoiceField(choices=["sms", "email", "all"], default="sms")
    text = serializers.CharField(max_length=2000, help_text="The disclosure the person agreed to, word for word.")
    version = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    page_url = serializers.URLField(max_length=1000, required=False, allow_blank=True, default="")


class CaptureInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    source = serializers.CharField(max_length=100)
    external_id = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    message = serializers.CharField(
        max_length=20000, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, min_length=2, required=False, allow_blank=True, default="")
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    payload = serializers.DictField(required=False, default=dict)
    consent = ConsentInputSerializer(required=False, allow_null=True, default=None)

    def validate_received_at(self, value):
        """Stored in UTC (PostgreSQL refuses offsets beyond ±16 h that Python allows); never in the future."""
        if value is None:
            return None
        value = value.astimezone(UTC)
        if value > timezone.now() + RECEIVED_AT_SLACK:
            raise serializers.ValidationError("A lead cannot arrive in the future; check the clock or the time zone.")
        return value

    def to_capture_event(self, *, how: str = "api", ip: str | None = None, user_agent: str = "") -> CaptureEvent:
        """The validated event; ``how``, ``ip`` and ``user_agent`` are the evidence kept with any consent."""
        data = dict(self.validated_data)
        consent = data.pop("consent", None)
        if consent:
            consent = ConsentGiven(how=how, ip=ip, user_agent=user_agent[:500], **consent)
        return CaptureEvent(**data, consent=consent or None)


def capture_answer(result: CaptureResult) -> dict:
    return {"event": result.event.pk, "lead": result.lead.pk, "duplicate": result.duplicate}


class EventCreateApi(APIView):
    """Capture one inbound event from any channel."""

    @extend_schema(
        request=CaptureInputSerializer,
        responses={202: CAPTURE_ANSWER},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        summary="Capture an inbound event",
    )
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key and len(key) > 200:
            raise serializers.ValidationError({"Idempotency-Key": ["At most 200 characters."]})
        serializer = CaptureInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = lead_capture(
            event=serializer.to_capture_event(),
            idempotency_key=key,
            request_hash=request_fingerprint(request.data) if key else "",
        )
        return Response(capture_answer(result), status=status.HTTP_202_ACCEPTED)


class LeadOutputSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()

    class Meta:
        model = Lead
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "company",
            "postal_code",
            "country",
            "timezone",
            "stage",
            "owner",
            "score",
            "qualification",
            "opted_out",
            "email_opted_out",
            "consent_hold",
            "contact_problems",
            "email_undeliverable",
            "first_response_at",
            "created_at",
            "updated_at",
        ]

    def get_owner(self, lead) -> dict | None:
        if lead.owner_id is None:
            return None
        return {"id": lead.owner_id, "username": lead.owner.get_username(), "name": lead.owner.get_full_name()}


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    actor = serializers.CharField()
    reasoning = serializers.CharField()
    confidence = serializers.FloatField(allow_null=True)
    outcome = serializers.CharField()
    ref = serializers.IntegerField(allow_null=True)
    changes = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()), help_text="History diffs: [field, before, after]."
    )


class LeadUpdateSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    opted_out = serializers.BooleanField(required=False, help_text="true: the person opted out of texts.")
    email_opted_out = serializers.BooleanField(required=False, help_text="true: the person unsubscribed from email.")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                allowed = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {name: [f"This field cannot be changed through the API (only: {allowed})."] for name in unknown}
                )
        return super().to_internal_value(data)

    def validate(self, attrs):
        for name in ("opted_out", "email_opted_out"):
            if attrs.get(name) is False:
                raise serializers.ValidationError(
                    {name: ["Only the person can opt back in (START, or consent on a form or an event)."]}
                )
        if not {"stage", "opted_out", "email_opted_out"} & set(attrs):
            raise serializers.ValidationError({"stage": ["Send stage, opted_out or email_opted_out."]})
        return attrs


class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Leads the caller may see: a rep's own, every lead for managers and integrations."""

    serializer_class = LeadOutputSerializer
    filterset_class = LeadFilter
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "patch", "head", "options"]

    # What the schema generator reads (it has no user); requests go through get_queryset.
    queryset = Lead.objects.none()

    def get_queryset(self):
        return lead_list(user=self.request.user)

    @extend_schema(
        request=LeadUpdateSerializer,
        responses={200: LeadOutputSerializer},
        summary="Change a lead's stage, or record its opt-out (a CRM sync): what either sets off happens",
    )
    def partial_update(self, request, pk=None):
        lead = self.get_object()
        serializer = LeadUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        channels = [c for c, name in (("sms", "opted_out"), ("email", "email_opted_out")) if values.get(name)]
        if channels:
            person = None if getattr(request.user, "is_api_key", False) else request.user
            consent_opt_out(
                channel="all" if len(channels) == 2 else channels[0],
                how=ConsentRecord.How.API,
                lead=lead,
                evidence=Evidence(words=values["reason"], actor=person, actor_label=str(request.user)[:100]),
            )
        if "stage" in values:
            lead = lead_stage_set(lead_id=lead.pk, stage=values["stage"], user=request.user)
        return Response(LeadOutputSerializer(lead_list(user=request.user).get(pk=lead.pk)).data)

    @extend_schema(responses={200: TimelineEntrySerializer(many=True)}, summary="A lead's timeline, oldest first")
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def timeline(self, request, pk=None):
        lead = self.get_object()
        return Response(TimelineEntrySerializer(lead_timeline(lead=lead), many=True).data)
