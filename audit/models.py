from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from audit.history import History


class Decision(models.Model):
    """One step the system or a person took on a lead, with its reasoning: the audit trail."""

    class Step(models.TextChoices):
        QUALIFY = "qualify", "Qualified"
        ROUTE = "route", "Routed"
        PROPOSE = "propose", "Proposed action"
        EDIT = "edit", "Edited"
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"
        RETRY = "retry", "Retried"
        EXECUTE = "execute", "Executed"
        TOUCH = "touch", "First touch"
        SLA = "sla", "SLA breach"
        ENRICH = "enrich", "Enriched"
        RELABEL = "relabel", "Re-labelled"
        REGENERATE = "regenerate", "Regenerated"
        SNOOZE = "snooze", "Snoozed"
        POLICY = "policy", "Policy changed"
        STAGE = "stage", "Stage changed"
        REASSIGN = "reassign", "Reassigned"
        BOOK = "book", "Appointment booked"
        CONSENT = "consent", "Consent changed"
        DELIVERY = "delivery", "Delivery report"
        CALL = "call", "Call"
        NOTIFY = "notify", "Notified"
        CADENCE = "cadence", "Cadence"
        PRIVACY = "privacy", "Privacy (export or erasure)"
        # An out-of-office, a vacation responder or list mail on a lead's thread: noted, never answered.
        AUTOMATIC_MAIL = "automatic_mail", "Automatic mail (not answered)"

    class ActorType(models.TextChoices):
        SYSTEM = "system", "System"
        MODEL = "model", "Model"
        PERSON = "person", "Person"

    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        SKIPPED = "skipped", "Skipped"
        ESCALATED = "escalated", "Escalated"
        FAILED = "failed", "Failed"

    # Indexed by the (lead, created_at) index below.
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="decisions", db_index=False
    )
    action = models.ForeignKey(
        "approvals.Action", null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    step = models.CharField(max_length=20, choices=Step.choices)
    workflow = models.CharField(max_length=40, blank=True)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices, default=ActorType.SYSTEM)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    input_summary = models.TextField(blank=True)
    output = models.JSONField(default=dict, blank=True)
    reasoning = models.TextField(blank=True)
    confidence = models.FloatField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    # Model calls: which model answered and the tokens it cost (for latency and cost reports).
    model = models.CharField(max_length=100, blank=True)
    tokens_in = models.PositiveIntegerField(null=True, blank=True)
    tokens_out = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OK)
    # When the step happened, not when its row was written: a batch of a task's steps is written at its end.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lead", "created_at"])]

    def __str__(self):
        return f"{self.get_step_display()} ({self.get_outcome_display()}) lead {self.lead_id}"


class ReportSettings(models.Model):
    """What the managers set for the reports: the baseline period (before automation) and the ROI model's inputs.

    One row (``ReportSettings.load()``); kept in history, so a changed assumption is on record.
    """

    baseline_start = models.DateField(null=True, blank=True, help_text="First day of the period before automation.")
    baseline_end = models.DateField(null=True, blank=True, help_text="Its last day.")
    baseline_note = models.CharField(
        max_length=200, blank=True, help_text="What the baseline was: 'before Nightshift', 'imported from the CRM'."
    )
    close_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("20"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent of leads a rep answers in time that become customers.",
    )
    average_deal_value = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("5000"), validators=[MinValueValidator(0)]
    )
    monthly_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("500"),
        validators=[MinValueValidator(0)],
        help_text="What running the system costs a month (subscription, model, SMS).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        verbose_name = verbose_name_plural = "report settings"

    def __str__(self):
        return "Report settings"

    @classmethod
    def load(cls) -> "ReportSettings":
        return cls.objects.get_or_create(pk=1)[0]

    def clean(self):
        if (self.baseline_start is None) != (self.baseline_end is None):
            raise ValidationError({"baseline_end": "Give both the first and the last day of the baseline, or neither."})
        if self.baseline_start and self.baseline_end and self.baseline_end < self.baseline_start:
            raise ValidationError({"baseline_end": "The last day must not be before the first."})
