import calendar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.template import TemplateSyntaxError
from django.utils import timezone

from approvals.gates import GATE_FIELDS
from approvals.templating import BASE_VARIABLES, CADENCE_VARIABLES, VARIABLES, render_text, template_variables
from audit.history import History
from integrations.sms_segments import Segmentation, segment, typographic_fix
from leads.choices import Language
from leads.conditions import describe, empty_conditions, validate_conditions


class Workflow(models.TextChoices):
    """Kinds of work the system may do for a lead; each has its own Policy. A new kind is one line here."""

    FIRST_RESPONSE = "first_response", "First response"
    CLARIFYING_QUESTION = "clarifying_question", "Clarifying question"
    FOLLOW_UP = "follow_up", "Follow-up"
    APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminder"
    REVIEW_REQUEST = "review_request", "Review request"
    QUOTE = "quote", "Quote"
    REFUND = "refund", "Refund"
    CONTRACT = "contract", "Contract"
    CRM_UPDATE = "crm_update", "CRM update"
    REASSIGNMENT = "reassignment", "Reassignment"
    MISSED_CALL = "missed_call", "Missed-call text-back"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation", "Opt-out confirmation"
    # A meeting booked, moved or cancelled in the conversation (a reply, the link), with the message saying so.
    BOOKING = "booking", "Booking"


# A send of these is the lead's first answer (speed to lead stops): the missed-call text-back answers a caller
# as a first response answers a form.
FIRST_ANSWER_WORKFLOWS = (Workflow.FIRST_RESPONSE, Workflow.CLARIFYING_QUESTION, Workflow.MISSED_CALL)


class Reviewer(models.TextChoices):
    REP = "rep", "The lead's rep"
    MANAGER = "manager", "A manager"


class Policy(models.Model):
    """The autonomy dial for one workflow: observe (shadow), draft (a person approves) or auto."""

    class Mode(models.TextChoices):
        OBSERVE = "observe", "Observe (shadow: decide and log, never act)"
        DRAFT = "draft", "Draft (a person approves)"
        AUTO = "auto", "Auto (acts; escalates below the confidence threshold)"

    workflow = models.CharField(max_length=40, choices=Workflow.choices, unique=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.DRAFT)
    min_confidence = models.FloatField(
        default=0.7, help_text="In auto mode, actions below this confidence wait for a person (0-1)."
    )
    graduation_bar = models.FloatField(
        default=0.95,
        help_text="Share of the last decisions a person approved unchanged (or, in observe mode, matched) "
        "before the portal offers to graduate this workflow to auto (0-1).",
    )
    graduation_window = models.PositiveIntegerField(
        default=200, help_text="How many of the latest decisions the graduation bar is measured over."
    )
    fallback_to_email = models.BooleanField(
        default=True,
        help_text="When a text cannot be delivered and the lead has an email address, propose the same message "
        "by email (it follows this policy like any other action).",
    )
    fallback_to_sms = models.BooleanField(
        default=True,
        help_text="When an email bounces and the lead has a number that may be texted, propose the same message "
        "by text (it follows this policy like any other action; a text too long for SMS waits for a person).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["workflow"]
        verbose_name_plural = "policies"

    def __str__(self):
        return f"{self.get_workflow_display()}: {self.mode}"

    def clean(self):
        # Fields that failed to convert are already named by clean_fields; only numbers are range-checked here.
        errors = {
            name: "Use a number between 0 and 1."
            for name in ("min_confidence", "graduation_bar")
            if isinstance(getattr(self, name), int | float) and not 0 <= getattr(self, name) <= 1
        }
        if isinstance(self.graduation_window, int) and not 10 <= self.graduation_window <= 1000:
            errors["graduation_window"] = "Measure over 10 to 1,000 decisions."
        if errors:
            raise ValidationError(errors)


class PolicyGate(models.Model):
    """An approval gate: when its conditions hold, the action waits for a person, whatever the dial says.

    Conditions use the routing rules' language over the action's facts (``amount > 5000``,
    ``vip is yes``, ``outside_business_hours is yes``); no conditions means every action of the workflow.
    """

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="gates")
    name = models.CharField(max_length=100)
    conditions = models.JSONField(default=empty_conditions, blank=True)
    reviewer = models.CharField(max_length=10, choices=Reviewer.choices, default=Reviewer.MANAGER)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = History()

    class Meta:
        ordering = ["policy", "id"]

    def __str__(self):
        return self.name

    @property
    def summary(self) -> str:
        return describe(self.conditions or {}) if self.conditions.get("conditions") else "every action"

    def clean(self):
        try:
            validate_conditions(self.conditions, GATE_FIELDS)
        except ValueError as exc:
            raise ValidationError({"conditions": str(exc)}) from exc


class BusinessHours(models.Model):
    """When the business is open, per weekday, in the lead's time zone: the ``outside_business_hours`` gate reads it."""

    weekday = models.PositiveSmallIntegerField(choices=[(i, day) for i, day in enumerate(calendar.day_name)])
    opens = models.TimeField()
    closes = models.TimeField()

    history = History()

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "business hours"

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self):
        if self.opens is not None and self.closes is not None and self.opens >= self.closes:
            raise ValidationError({"closes": "Closing time must be after opening time."})


class SmsSettings(models.Model):
    """What the managers set for texts: how many segments one SMS may cost. One row (``SmsSettings.load()``).

    Carriers bill per segment and Twilio advises against texts much past 320 GSM-7 characters (3 segments);
    a UCS-2 text (one emoji, one 'Ł') gets 67 characters a segment instead of 153.
    """

    DEFAULT_MAX_SEGMENTS = 3

    max_segments = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_SEGMENTS,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="The most segments one SMS may cost (1 segment: 160 GSM-7 characters or 70 UCS-2; longer texts "
        "153 or 67 a segment). Drafts over it are refused when edited or approved and held when proposed.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        verbose_name = verbose_name_plural = "SMS settings"

    def __str__(self):
        return "SMS settings"

    @classmethod
    def load(cls) -> "SmsSettings":
        return cls.objects.get_or_create(pk=1)[0]

    @classmethod
    def max_segments_now(cls) -> int:
        """The limit as stored, the default while no manager has saved one (a read: no row is created)."""
        return cls.objects.filter(pk=1).values_list("max_segments", flat=True).first() or cls.DEFAULT_MAX_SEGMENTS


class MessageTemplate(models.Model):
    """Text a workflow drafts from, in Django's template language: ``{{ first_name|default:"there" }}``.

    An empty variable renders as nothing and the text around it is tidied (approvals.templating).
    """

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    name = models.CharField(max_length=100)
    workflow = models.CharField(max_length=40, choices=Workflow.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    asks_for = models.CharField(
        max_length=20,
        blank=True,
        choices=[("budget", "Budget"), ("postal_code", "Postal code"), ("timeline", "Timeline")],
        help_text="Clarifying questions only: the missing fact this template asks for.",
    )
    language = models.CharField(
        max_length=2,
        blank=True,
        choices=Language.choices,
        help_text="The language the text is written in. A lead who writes in it is answered with this variant; "
        "a lead whose language has no variant gets the business's default language (BUSINESS_LANGUAGE). "
        "Blank: the default language.",
    )
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    body = models.TextField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["workflow", "channel", "name"]

    def __str__(self):
        return self.name

    @property
    def written_in(self) -> str:
        """The language of the text: its own, else the business's default."""
        return self.language or settings.BUSINESS_LANGUAGE

    def variables(self) -> frozenset[str]:
        """What its workflow's drafting fills; a cadence step's template gets what its cadence has too."""
        if self.workflow == Workflow.OPT_OUT_CONFIRMATION:
            return frozenset({"first_name", "business_name"})
        if self.workflow in (Workflow.FIRST_RESPONSE, Workflow.CLARIFYING_QUESTION, Workflow.MISSED_CALL):
            return BASE_VARIABLES
        return CADENCE_VARIABLES

    def clean(self):
        errors = {}
        for field in ("subject", "body"):
            try:
                unknown = sorted(template_variables(getattr(self, field)) - self.variables())
            except TemplateSyntaxError as exc:
                errors[field] = f"Template error: {exc}"
                continue
            if unknown:
                errors[field] = variables_unknown_message(unknown, self.variables())
        if errors:
            raise ValidationError(errors)
        sample = self.render(first_name="Alex", rep_name="Sam", business_name="Acme")
        if (self.workflow == Workflow.CLARIFYING_QUESTION) != bool(self.asks_for):
            raise ValidationError({"asks_for": "Clarifying-question templates, and only they, name the fact they ask."})
        if self.channel == self.Channel.SMS:
            # Measured as it is sent: drafting gives typographic characters their GSM-7 twins (names aside).
            sent = typographic_fix(sample, keep=("Alex", "Sam"))
            if too_long := segment(sent).limit_error(SmsSettings.max_segments_now()):
                raise ValidationError({"body": f"Written to Alex from Sam: {too_long}"})

    def render(self, **variables) -> str:
        return render_text(self.body, variables)

    def render_subject(self, **variables) -> str:
        return render_text(self.subject, variables)


def variables_unknown_message(unknown: list[str], allowed: frozenset[str]) -> str:
    """'{{ frist_name }} is not a variable here; use: {{ business_name }} (…), …' for an admin form error."""
    names = ", ".join(f"{{{{ {name} }}}}" for name in unknown)
    verb = "is not a variable" if len(unknown) == 1 else "are not variables"
    known = ", ".join(f"{{{{ {name} }}}} ({VARIABLES[name]})" for name in sorted(allowed))
    return f"{names} {verb} here; use: {known}."


class Action(models.Model):
    """Something the system proposes to do for a lead (send an SMS, an email…), governed by its workflow's Policy."""

    class Kind(models.TextChoices):
        SEND_SMS = "send_sms", "Send SMS"
        SEND_EMAIL = "send_email", "Send email"
        SEND_CHAT = "send_chat", "Send chat reply"
        # For the team, not the lead: a cadence's call task (emailed to the rep) and Slack nudge.
        CALL_TASK = "call_task", "Call task for the rep"
        SLACK_NUDGE = "slack_nudge", "Slack nudge to the team"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXECUTING = "executing", "Sending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        SHADOW = "shadow", "Shadow (observe only)"

    # Indexed by the (lead, status) index below.
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="actions", db_index=False)
    event = models.ForeignKey("leads.InboundEvent", null=True, blank=True, on_delete=models.SET_NULL)
    workflow = models.CharField(max_length=40, choices=Workflow.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Message actions: {"to": ..., "body": ..., "subject": ...}
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    confidence = models.FloatField(null=True, blank=True)
    reasoning = models.TextField(blank=True)
    escalated = models.BooleanField(default=False)
    escalation_reason = models.CharField(max_length=300, blank=True)
    # Who must look when it waits: the lead's rep, or managers (gated kinds); reps cannot decide the latter.
    review_by = models.CharField(max_length=10, choices=Reviewer.choices, default=Reviewer.REP)
    # A quote's or refund's amount, for gates and the queue.
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Set when a person wrote the action (a reply, a quote): the dial governs only the system's proposals.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # An approved text held for quiet hours goes at this instant (UTC), not before; held_reason says why, in the
    # words a person reads ('held for quiet hours in FL until 08:00 …'). Set by approvals.services.quiet_hours.
    not_before = models.DateTimeField(null=True, blank=True)
    held_reason = models.CharField(max_length=300, blank=True)
    # Bumped on every change: a form holding an older version is stale and must not overwrite.
    version = models.PositiveIntegerField(default=1)
    edited = models.BooleanField(default=False)
    original_body = models.TextField(blank=True)
    # 0 (sent as drafted) to 1 (rewritten completely): how far a person's edit moved the draft.
    edit_distance = models.FloatField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A retried pipeline task finds the action it already proposed for this event.
            models.UniqueConstraint(
                fields=["event", "workflow"], condition=Q(event__isnull=False), name="action_unique_event_workflow"
            )
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["lead", "status"]),
            models.Index(fields=["workflow", "created_at"]),
            # The queue reads only what waits; this stays small however many actions are done.
            models.Index(
                fields=["created_at", "id"], condition=Q(status__in=["pending", "failed"]), name="action_queue"
            ),
            # The minute sweep reads only approved texts held for quiet hours, by when they may go.
            models.Index(
                fields=["not_before"], condition=Q(status="approved", not_before__isnull=False), name="action_held"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for lead {self.lead_id} ({self.status})"

    @property
    def body(self) -> str:
        return self.payload.get("body", "")

    @property
    def channel(self) -> str:
        return self.kind_channel(self.kind)

    @property
    def segmentation(self) -> Segmentation | None:
        """A text's segments, encoding and what forces UCS-2 (None for anything but an SMS)."""
        return segment(self.body) if self.kind == self.Kind.SEND_SMS else None

    @classmethod
    def kind_channel(cls, kind: str) -> str:
        return {
            cls.Kind.SEND_SMS: "sms",
            cls.Kind.SEND_CHAT: "chat",
            cls.Kind.CALL_TASK: "call",
            cls.Kind.SLACK_NUDGE: "slack",
        }.get(kind, "email")

    @property
    def held(self) -> bool:
        """Approved and waiting for quiet hours to end (``not_before`` still ahead)."""
        return self.status == self.Status.APPROVED and self.not_before is not None and self.not_before > timezone.now()

    @property
    def to_lead(self) -> bool:
        """A message the lead receives (else a task or a nudge for the team)."""
        return self.kind not in (self.Kind.CALL_TASK, self.Kind.SLACK_NUDGE)
