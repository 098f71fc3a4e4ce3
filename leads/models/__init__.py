from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone as django_timezone  # Lead has a field named timezone

from audit.history import History
from leads.choices import FORM_FIELD_TARGETS, Channel, Language, Stage, funnel_rank
from leads.ledger import AppendOnlyQuerySet, contact_digest
from leads.models.appointments import Appointment, appointment_uid

__all__ = [
    "Appointment",
    "ConsentRecord",
    "InboundEvent",
    "Lead",
    "Message",
    "Suppression",
    "VipAccount",
    "WebForm",
    "appointment_uid",
]


class Lead(models.Model):
    """A person who may buy: every inbound event from them attaches here (deduplicated by phone and email)."""

    class LinkedBy(models.TextChoices):
        PHONE = "phone", "Same phone"
        EMAIL = "email", "Same email"

    name = models.CharField(max_length=200, blank=True)
    # Normalized forms only: E.164 phone and lower-cased email; both are dedupe keys.
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    company = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=10, blank=True, help_text="ISO 3166-2, e.g. US-TX.")
    timezone = models.CharField(max_length=64, blank=True)
    # Kept in step with ``email`` by save(): the account key routing's account ownership looks up.
    email_domain = models.CharField(max_length=254, blank=True, editable=False)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.NEW)
    # Indexed by the (owner, stage) index below; a single-column index would only cost inserts.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        db_index=False,
    )
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    qualification = models.JSONField(default=dict, blank=True)
    language = models.CharField(
        max_length=2,
        blank=True,
        choices=Language.choices,
        help_text="The language the person writes in, read from their messages: answers are drafted in it when a "
        "template has that language. Blank: not known yet (the business's default language is used).",
    )
    # Inferred facts, each {"value": ..., "source": ...}; what the person said is never overwritten.
    enrichment = models.JSONField(default=dict, blank=True)
    # Current consent, derived from the ConsentRecord ledger (leads.services.consent keeps them in step).
    opted_out = models.BooleanField(default=False, help_text="No texts: the number opted out of SMS.")
    email_opted_out = models.BooleanField(default=False, help_text="No email: the address unsubscribed.")
    # Not consent: the person asked nothing, their mailbox takes no mail (integrations.delivery sets it).
    email_undeliverable = models.CharField(
        max_length=300,
        blank=True,
        help_text="Set when mail to the email address bounced for good (the bounce's status and the receiving "
        "server's words): no email is sent to it. Clear it once the address is corrected.",
    )
    consent_hold = models.CharField(
        max_length=300,
        blank=True,
        help_text="Set when a model alone read an opt-out: nothing is sent until a person confirms or dismisses it.",
    )
    first_response_at = models.DateTimeField(null=True, blank=True)
    # A person's first touch (approved message sent, call logged, lead accepted): stops the SLA clock.
    first_touch_at = models.DateTimeField(null=True, blank=True)
    # For reports, kept by capture and the executor: where the lead first came from, the furthest
    # funnel stage it reached (a lost lead still counts as quoted), and when we last wrote to it.
    channel = models.CharField(max_length=20, choices=Channel.choices, blank=True, editable=False)
    source = models.CharField(max_length=100, blank=True, editable=False)
    funnel_rank = models.PositiveSmallIntegerField(default=0, editable=False)
    last_outbound_at = models.DateTimeField(null=True, blank=True, editable=False)
    # What an event gave that could not be used, by field: {"phone": {"raw": "07700 900123", "reason": "…"}}.
    # The lead page flags it until a manager corrects the lead or a later event brings a usable value.
    contact_problems = models.JSONField(default=dict, blank=True)
    # Another person who gave the same phone or email, kept apart from this one (leads.identity): the address
    # stays that lead's, this one is reached on its own. Both lead pages show the link.
    linked_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="linked_leads",
        db_index=False,
        help_text="Another person who gave the same phone or email.",
    )
    linked_by = models.CharField(max_length=5, choices=LinkedBy.choices, blank=True)
    # Set when the person was forgotten (leads.services.erasure): the row stays as an anonymised tombstone.
    forgotten_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the lead arrived: its first event's time (an email polled late, an imported lead), else now.
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = History(excluded_fields=["funnel_rank", "last_outbound_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Concurrent captures of the same person collide here instead of creating twins.
            models.UniqueConstraint(fields=["phone"], condition=~Q(phone=""), name="lead_unique_phone"),
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="lead_unique_email"),
        ]
        indexes = [
            models.Index(fields=["owner", "stage"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["email_domain"], condition=~Q(email_domain=""), name="lead_email_domain"),
            models.Index(Upper("company"), condition=~Q(company=""), name="lead_company_upper"),
            # Reports: quotes with no follow-up and open leads nobody wrote to, by when we last wrote.
            models.Index(fields=["stage", "last_outbound_at"], name="lead_stage_last_outbound"),
            # The lead page's "also gave this phone/email": a small index, most leads link to nobody.
            models.Index(fields=["linked_to"], condition=Q(linked_to__isnull=False), name="lead_linked_to"),
        ]

    def __str__(self):
        return self.name or self.email or self.phone or f"Lead {self.pk}"

    def save(self, *args, **kwargs):
        derived = []
        domain = self.email.rpartition("@")[2].lower() if self.email else ""
        if domain != self.email_domain:
            self.email_domain = domain
            derived.append("email_domain")
        if funnel_rank(self.stage) > self.funnel_rank:
            self.funnel_rank = funnel_rank(self.stage)
            derived.append("funnel_rank")
        if derived and kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = [*kwargs["update_fields"], *derived]
        super().save(*args, **kwargs)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class InboundEvent(models.Model):
    """One inbound signal exactly as received, stored before any reasoning runs."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    source = models.CharField(max_length=100)
    external_id = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    # Fingerprint of the request body, so a reused Idempotency-Key with a different body is refused.
    request_hash = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    message = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()
    # The capture decision: this event started a new lead (else it matched one by phone or email).
    lead_created = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="event_unique_source_external_id",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="event_unique_idempotency_key",
            ),
        ]
        indexes = [
            # /metrics: the oldest event still waiting for the pipeline (a small index: processed ones leave it).
            models.Index(fields=["created_at"], condition=Q(processed_at=None), name="event_unprocessed")
        ]

    def __str__(self):
        return f"{self.get_channel_display()} from {self.source} ({self.received_at:%Y-%m-%d %H:%M})"


class Message(models.Model):
    """A message to or from a lead on one channel; outbound ones carry the provider's id once sent."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        # Calls: the phone rang and nobody (or voicemail) answered.
        MISSED = "missed", "Missed"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="messages")
    # One outbound message per action: the executor's second run finds this row and sends nothing.
    action = models.OneToOneField(
        "approvals.Action", null=True, blank=True, on_delete=models.SET_NULL, related_name="message"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices)
    provider_id = models.CharField(max_length=100, blank=True)
    # The provider's error code when delivery failed (Twilio's 30003, 21610…).
    error_code = models.CharField(max_length=20, blank=True)
    error = models.TextField(blank=True)
    # Email threading (Message-ID of this message) and provider media: photos, call recordings.
    message_id = models.CharField(max_length=250, blank=True)
    media = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Status callbacks find the message by the provider's id.
            models.Index(fields=["provider_id"], condition=~Q(provider_id=""), name="message_provider_id"),
            models.Index(fields=["message_id"], condition=~Q(message_id=""), name="message_message_id"),
            # Reports: missed calls in a period (and whether they were returned).
            models.Index(fields=["created_at"], condition=Q(status="missed"), name="message_missed"),
            models.Index(fields=["lead", "created_at"], name="message_lead_created"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.channel} to lead {self.lead_id}: {self.body[:40]}"


class Suppression(models.Model):
    """A phone or email address no message on ``channel`` may reach, by any path, until it opts back in.

    The address itself is blanked when the person is forgotten (``forget_person``); the digest stays, so a
    forgotten person who opted out is never contacted again.
    """

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254, blank=True, db_index=True)
    digest = models.CharField(max_length=64, editable=False)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["channel", "digest"], name="suppression_unique_address")]

    def __str__(self):
        return f"{self.get_channel_display()} {self.address or self.digest[:12]}"

    def save(self, *args, **kwargs):
        if self.address:
            self.digest = contact_digest(self.address)
        super().save(*args, **kwargs)


class ConsentRecord(models.Model):
    """One consent event, append-only: the proof a business shows in a dispute (TCPA: the burden is the sender's).

    A lead's current consent (``Lead.opted_out``, ``Lead.email_opted_out``, the Suppression list) is derived
    from these rows by leads.services.consent, in the transaction that writes them. The one change ever made to
    a record is ``ConsentRecord.objects.anonymise()``, when its person is forgotten (leads.ledger).
    """

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"
        ALL = "all", "Every channel"

    class Kind(models.TextChoices):
        OPT_IN = "opt_in", "Opt-in"
        OPT_OUT = "opt_out", "Opt-out"
        RE_OPT_IN = "re_opt_in", "Opted back in"
        CONFIRMATION = "confirmation", "Opt-out confirmed to the person"
        SUSPECTED = "suspected", "Looks like an opt-out (held for a person)"
        DISMISSED = "dismissed", "Not an opt-out (a person decided)"

    class How(models.TextChoices):
        FORM = "form", "Form checkbox"
        KEYWORD = "keyword", "Keyword"
        SENTENCE = "sentence", "Sentence"
        MODEL = "model", "Model's reading"
        CARRIER = "carrier", "Carrier code"
        PERSON = "person", "A person"
        API = "api", "API"
        UNSUBSCRIBE_LINK = "unsubscribe_link", "Unsubscribe link"
        SYSTEM = "system", "Nightshift"

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="consent_records")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    how = models.CharField(max_length=20, choices=How.choices)
    # 64: wide enough for the digest that replaces the number when the person is forgotten.
    phone = models.CharField(max_length=64, blank=True)
    email = models.CharField(max_length=254, blank=True)
    words = models.TextField(blank=True, help_text="The exact words, or the disclosure text the person was shown.")
    disclosure_version = models.CharField(max_length=100, blank=True)
    evidence_event = models.ForeignKey(
        InboundEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="consent_records"
    )
    evidence_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="consent_records"
    )
    evidence_ref = models.CharField(
        max_length=200, blank=True, help_text="The provider's id of what carried it (a MessageSid, an error code)."
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    page_url = models.URLField(max_length=1000, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=100, blank=True, help_text="Who, when not a person: a carrier, an API key."
    )
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["lead", "created_at"], name="consent_lead_time"),
            models.Index(fields=["phone"], condition=~Q(phone=""), name="consent_phone"),
            models.Index(fields=["email"], condition=~Q(email=""), name="consent_email"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_channel_display()}, {self.get_how_display()})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Consent records are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Consent records are never deleted.")


class WebForm(models.Model):
    """A website form that posts to /capture/form/<slug>/; managers set its label and thank-you page."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    source = models.CharField(max_length=100, help_text="Label stored on every lead from this form.")
    thank_you_url = models.URLField(blank=True, help_text="Browsers are sent here after a form post.")
    honeypot_field = models.CharField(
        max_length=100,
        blank=True,
        default="website",
        help_text="A field the page hides from people, which only bots fill: a post with it filled is kept as "
        "suspected spam (in Noise) and never answered. Blank: the form has none.",
    )
    field_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='Field names this form\'s builder posts that are not the usual ones, to ours, e.g. {"input_1.3": '
        f'"first_name", "input_2": "email"}}. Ours: {", ".join(FORM_FIELD_TARGETS)}.',
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if not isinstance(self.field_map, dict):
            raise ValidationError({"field_map": "A JSON object: posted field name -> one of ours."})
        wrong = sorted(str(v) for v in self.field_map.values() if v not in FORM_FIELD_TARGETS)
        if wrong:
            raise ValidationError(
                {"field_map": f"Not one of ours: {', '.join(wrong)}. Ours: {', '.join(FORM_FIELD_TARGETS)}."}
            )


class VipAccount(models.Model):
    """An account whose messages a manager may gate ("first message to a VIP account"): by company or email domain."""

    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True, help_text="Matched case-insensitively.")
    email_domain = models.CharField(max_length=254, blank=True, help_text="For example acme.com.")

    history = History()

    class Meta:
        ordering = ["name"]
        verbose_name = "VIP account"

    def __str__(self):
        return self.name

    def clean(self):
        if not self.company.strip() and not self.email_domain.strip():
            raise ValidationError("Give a company name, an email domain, or both.")
        self.email_domain = self.email_domain.strip().lower().lstrip("@")
