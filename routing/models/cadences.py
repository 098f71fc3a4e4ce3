from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.template import TemplateSyntaxError

from approvals.models import MessageTemplate, Workflow
from approvals.templating import APPOINTMENT_VARIABLES, BASE_VARIABLES, template_variables
from audit.history import History
from leads.choices import Stage


def stage_list(text: str) -> list[str]:
    """Comma-separated stage names, as stored in ``Cadence.stop_stages``."""
    return [part.strip().lower() for part in (text or "").split(",") if part.strip()]


class Cadence(models.Model):
    """A follow-up sequence a manager edits: what starts it, its steps, and what stops it.

    Each step proposes an Action under the cadence's workflow Policy, like every other outbound action.
    """

    class Trigger(models.TextChoices):
        LEAD_CREATED = "lead_created", "A new lead is captured"
        QUALIFIED = "qualified", "A lead is qualified"
        NO_REPLY = "no_reply", "No reply some hours after our last message"
        STAGE_ENTERED = "stage_entered", "A lead enters a stage"
        APPOINTMENT = "appointment", "An appointment is booked (steps count back from its start)"
        MANUAL = "manual", "Only by a person (portal) or an integration (API)"

    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True, help_text="Off: nobody new is enrolled; running enrollments go on.")
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    trigger_stage = models.CharField(
        max_length=20, choices=Stage.choices, blank=True, help_text="For 'a lead enters a stage': which stage."
    )
    trigger_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 90)],
        help_text="For 'no reply': hours of silence after our last message before the cadence starts.",
    )
    workflow = models.CharField(
        max_length=40,
        choices=Workflow.choices,
        default=Workflow.FOLLOW_UP,
        help_text="The Policy (observe, draft, auto, gates) every step's action goes through.",
    )
    link = models.URLField(
        blank=True, help_text="Steps' texts may use it as {{ link }}: your review page, a booking page."
    )
    stop_on_reply = models.BooleanField(default=True, help_text="Stop when the lead writes or calls, on any channel.")
    stop_on_booking = models.BooleanField(default=True, help_text="Stop when an appointment is booked.")
    stop_on_reassign = models.BooleanField(default=False, help_text="Stop when the lead is given to another rep.")
    stop_stages = models.CharField(
        max_length=200,
        blank=True,
        default="won, lost, unqualified, spam",
        help_text="Comma-separated stages that stop it, e.g. 'won, lost'.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def stop_stage_list(self) -> list[str]:
        return stage_list(self.stop_stages)

    def variables(self) -> frozenset[str]:
        """What its steps' texts may use."""
        names = set(BASE_VARIABLES)
        if self.link:
            names.add("link")
        if self.trigger == self.Trigger.APPOINTMENT:
            names |= APPOINTMENT_VARIABLES
        return frozenset(names)

    def clean(self):
        errors = {}
        unknown = [s for s in self.stop_stage_list if s not in Stage.values]
        if unknown:
            errors["stop_stages"] = f"Unknown stage(s): {', '.join(unknown)}. Use: {', '.join(Stage.values)}."
        else:
            self.stop_stages = ", ".join(self.stop_stage_list)
        if self.trigger == self.Trigger.STAGE_ENTERED:
            if not self.trigger_stage:
                errors["trigger_stage"] = "Choose the stage that starts this cadence."
            elif self.trigger_stage in self.stop_stage_list:
                errors["stop_stages"] = (
                    f"'{self.trigger_stage}' both starts and stops this cadence: it would stop as soon as it started."
                )
        elif self.trigger_stage:
            errors["trigger_stage"] = "Only a cadence started by a stage names one."
        if self.trigger == self.Trigger.NO_REPLY and not self.trigger_hours:
            errors["trigger_hours"] = "Say how many hours of silence start this cadence."
        if errors:
            raise ValidationError(errors)


class CadenceStep(models.Model):
    """One step of a cadence: when (after the start, or before the appointment), how, and what it says."""

    class Unit(models.TextChoices):
        MINUTES = "minutes", "minutes"
        HOURS = "hours", "hours"
        BUSINESS_DAYS = "business_days", "business days"

    class Channel(models.TextChoices):
        SMS = "sms", "SMS to the lead"
        EMAIL = "email", "Email to the lead"
        CALL = "call", "Call task for the rep"
        SLACK = "slack", "Slack nudge to the team"

    cadence = models.ForeignKey(Cadence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0, help_text="Steps run in this order.")
    delay = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(100_000)],
        help_text="After the cadence starts; for appointment reminders, before the appointment.",
    )
    delay_unit = models.CharField(max_length=15, choices=Unit.choices, default=Unit.HOURS)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    template = models.ForeignKey(
        MessageTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="SMS and email steps: the text sent.",
    )
    note = models.TextField(
        blank=True,
        help_text="Call tasks and Slack nudges: what the rep or team is asked, e.g. 'Call {{ first_name }}'.",
    )
    only_if_no_reply = models.BooleanField(default=False, help_text="Skip this step if the lead has replied.")
    only_if_stage = models.CharField(
        max_length=20, choices=Stage.choices, blank=True, help_text="Skip this step unless the lead is still here."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["cadence", "position", "id"]

    def __str__(self):
        return f"{self.cadence}: {self.when} · {self.get_channel_display()}"

    @property
    def when(self) -> str:
        """'1 business day', '24 hours before': the delay in words."""
        unit = self.get_delay_unit_display()
        words = f"{self.delay} {unit[:-1] if self.delay == 1 else unit}"
        cadence = self._cadence_or_none()
        return f"{words} before" if cadence and cadence.trigger == Cadence.Trigger.APPOINTMENT else words

    def _cadence_or_none(self) -> Cadence | None:
        # An admin inline validates a step before its new cadence is saved.
        try:
            return self.cadence
        except Cadence.DoesNotExist:
            return None

    @property
    def writes_to_lead(self) -> bool:
        return self.channel in (self.Channel.SMS, self.Channel.EMAIL)

    def clean(self):
        errors = {}
        cadence = self._cadence_or_none()
        if self.writes_to_lead:
            if self.template_id is None:
                errors["template"] = "SMS and email steps send a template; choose one."
            elif self.template.channel != self.channel:
                errors["template"] = f"This is an {self.template.channel} template; the step sends {self.channel}."
        elif not self.note.strip():
            errors["note"] = "Say what the rep (or the team) is asked to do."
        if cadence is not None:
            appointment = cadence.trigger == Cadence.Trigger.APPOINTMENT
            if appointment and self.delay_unit == self.Unit.BUSINESS_DAYS:
                errors["delay_unit"] = "Appointment reminders count back in minutes or hours."
            texts = [("note", self.note)]
            if self.writes_to_lead and "template" not in errors:
                texts = [("template", self.template.body), ("template", self.template.subject)]
            for field, text in texts:
                try:
                    missing = template_variables(text) - cadence.variables()
                except TemplateSyntaxError as exc:
                    errors.setdefault(field, f"Template error: {exc}")
                    continue
                if missing:
                    errors.setdefault(field, _missing_text(sorted(missing), cadence))
        if errors:
            raise ValidationError(errors)


def _missing_text(missing: list[str], cadence: Cadence) -> str:
    why = {
        "link": "set the cadence's link",
        "appointment_time": "only appointment cadences know it",
        "appointment_location": "only appointment cadences know it",
    }
    parts = [f"{{{{ {name} }}}} ({why.get(name, 'no such variable')})" for name in missing]
    return f"The text uses {', '.join(parts)}; '{cadence}' can fill {', '.join(sorted(cadence.variables()))}."


class QuietHours(models.Model):
    """When a channel may reach a lead, on the lead's clock; a channel without a row uses the default window."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"
        CALL = "call", "Call tasks"

    channel = models.CharField(max_length=10, choices=Channel.choices, unique=True)
    allowed_from = models.TimeField(help_text="Earliest local time, e.g. 08:00.")
    allowed_until = models.TimeField(help_text="Latest local time (exclusive), e.g. 21:00.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["channel"]
        verbose_name_plural = "quiet hours"

    def __str__(self):
        return f"{self.get_channel_display()}: {self.allowed_from:%H:%M}–{self.allowed_until:%H:%M}"

    def clean(self):
        if self.allowed_from is not None and self.allowed_until is not None and self.allowed_from >= self.allowed_until:
            raise ValidationError({"allowed_until": "Must be after the earliest time (the window is within one day)."})


class Holiday(models.Model):
    """A day the business is closed: business-day delays skip it, like weekends."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    history = History()

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"{self.name} ({self.date:%Y-%m-%d})"


WAITING = ("active", "paused")


class Enrollment(models.Model):
    """One lead going through one cadence: the next step and when it is due.

    The scheduler picks due rows with ``select_for_update(skip_locked=True)``; stopping locks the
    same row, so a stopped enrollment's due step is never proposed.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        STOPPED = "stopped", "Stopped"

    class StopKind(models.TextChoices):
        REPLY = "reply", "The lead replied"
        OPT_OUT = "opt_out", "The lead opted out"
        BOOKED = "booked", "An appointment was booked"
        STAGE = "stage", "The lead changed stage"
        REASSIGNED = "reassigned", "The lead was reassigned"
        PERSON = "person", "Stopped by a person"
        APPOINTMENT_CANCELLED = "appointment_cancelled", "The appointment was cancelled"
        INVALID = "invalid", "The cadence could not run"

    cadence = models.ForeignKey(Cadence, on_delete=models.PROTECT, related_name="enrollments")
    # Indexed by the (lead, status) index below.
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="enrollments", db_index=False)
    appointment = models.ForeignKey(
        "leads.Appointment", null=True, blank=True, on_delete=models.CASCADE, related_name="enrollments"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Index of the next step in the cadence's current steps; ``cycle`` grows when an appointment moves.
    position = models.PositiveSmallIntegerField(default=0)
    cycle = models.PositiveSmallIntegerField(default=0)
    next_run_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    # Failures of the current step so far; it is retried with backoff, then marked failed.
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    trigger = models.CharField(max_length=200, blank=True, help_text="What enrolled the lead, in words.")
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stop_kind = models.CharField(max_length=25, choices=StopKind.choices, blank=True)
    stop_reason = models.CharField(max_length=300, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One running enrollment per lead and cadence (per appointment for reminders): triggers that
            # fire twice, or race, find the first.
            models.UniqueConstraint(
                fields=["cadence", "lead"],
                condition=Q(status__in=WAITING, appointment__isnull=True),
                name="enrollment_one_running",
            ),
            models.UniqueConstraint(
                fields=["cadence", "appointment"],
                condition=Q(status__in=WAITING, appointment__isnull=False),
                name="enrollment_one_per_appointment",
            ),
        ]
        indexes = [
            # The scheduler reads only what is due; the cost follows due steps, not all enrollments.
            models.Index(fields=["next_run_at"], condition=Q(status="active"), name="enrollment_due"),
            models.Index(fields=["lead", "status"]),
            models.Index(fields=["cadence", "status"]),
        ]

    def __str__(self):
        return f"{self.lead} in {self.cadence} ({self.status})"


class StepRun(models.Model):
    """What one step did for one enrollment (proposed an action, skipped, failed) and whether the lead replied."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="runs")
    step = models.ForeignKey(CadenceStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    cycle = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    action = models.ForeignKey(
        "approvals.Action", null=True, blank=True, on_delete=models.SET_NULL, related_name="step_runs"
    )
    reason = models.CharField(max_length=300, blank=True)
    # The lead's first reply after this step (and before the next one): the reply rate per step.
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["enrollment", "cycle", "position"]
        constraints = [
            # A step runs once per enrollment (and appointment time): the last guard against a double send.
            models.UniqueConstraint(fields=["enrollment", "cycle", "position"], name="step_run_once")
        ]

    def __str__(self):
        return f"Step {self.position + 1} of enrollment {self.enrollment_id}: {self.status}"
