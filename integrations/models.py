import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from audit.history import History
from integrations.fieldmap import field_map_errors

KEY_PREFIX = "ns_"


class ApiKey(models.Model):
    """A named, revocable credential for one integration. Only a hash is stored; the key is shown once."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=12, editable=False, help_text="First characters, to recognise the key.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, name: str) -> tuple["ApiKey", str]:
        """Create a key named ``name``; returns the row and the raw key, which is never stored."""
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(name=name, prefix=raw[:10], key_hash=cls.hash_key(raw))
        return key, raw

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class InboundWebhook(models.Model):
    """A provider's callback exactly as received, once its signature checked out: stored before any work.

    The unique (source, external_id) makes a provider's retry of the same delivery a no-op; a
    task turns the row into a capture, and a failure there leaves the row visible and retryable.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        TWILIO_SMS = "twilio_sms", "Twilio SMS"
        EMAIL = "email", "Inbound email"
        FACEBOOK = "facebook", "Facebook Lead Ads"
        GOOGLE = "google", "Google Ads lead form"
        GENERIC = "generic", "Generic JSON"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    source = models.CharField(max_length=100)
    external_id = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    event = models.ForeignKey("leads.InboundEvent", null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~Q(external_id=""), name="webhook_unique_source_external_id"
            )
        ]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self):
        return f"{self.source} {self.external_id or self.pk} ({self.status})"


def webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class CrmEvent(models.TextChoices):
    """What a CRM can subscribe to; each delivery's body is {"id", "event", "created_at", "data"}."""

    LEAD_CREATED = "lead.created", "Lead created"
    LEAD_ASSIGNED = "lead.assigned", "Lead assigned"
    LEAD_STAGE_CHANGED = "lead.stage_changed", "Lead stage changed"
    MESSAGE_SENT = "message.sent", "Message sent"
    ACTION_APPROVED = "action.approved", "Action approved"
    APPOINTMENT_BOOKED = "appointment.booked", "Appointment booked"


class WebhookSubscription(models.Model):
    """A CRM (or any system) that wants to hear about events: deliveries are signed with its secret."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500, help_text="HTTPS endpoint that receives the JSON POSTs.")
    secret = models.CharField(
        max_length=100,
        default=webhook_secret,
        help_text="Signs every delivery: X-Nightshift-Signature: t=<unix time>,v1=<HMAC-SHA256 of '<t>.<body>'>.",
    )
    events = models.JSONField(default=list, help_text="The events this endpoint receives.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = History()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        unknown = [e for e in self.events or [] if e not in CrmEvent.values]
        if unknown or not self.events:
            raise ValidationError({"events": "Choose one or more of: " + ", ".join(CrmEvent.values) + "."})


class WebhookDelivery(models.Model):
    """One outbound POST (a CRM event, a Slack alert) and its fate: retried with backoff, then given up.

    The row is the delivery log; ``attempts`` rows say what each try got back.
    """

    class Kind(models.TextChoices):
        CRM = "crm", "CRM webhook"
        SLACK = "slack", "Slack alert"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    subscription = models.ForeignKey(
        WebhookSubscription, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    url = models.URLField(max_length=500)
    event = models.CharField(max_length=40)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_due"),
        ]

    def __str__(self):
        return f"{self.event} to {self.url} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.status_code or self.error[:40]} at {self.at:%Y-%m-%d %H:%M:%S}"


class LeadSource(models.Model):
    """An ad platform or marketplace posting leads to /integrations/webhooks/<slug>/, with its own secret."""

    class Kind(models.TextChoices):
        FACEBOOK = "facebook", "Facebook Lead Ads"
        GOOGLE = "google", "Google Ads lead form"
        GENERIC = "generic", "Generic JSON (mapped below)"

    slug = models.SlugField(unique=True, help_text="The URL is /integrations/webhooks/<slug>/.")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel = models.CharField(
        max_length=20,
        choices=[("ad", "Ad lead form"), ("marketplace", "Marketplace"), ("api", "API")],
        default="ad",
    )
    secret = models.CharField(
        max_length=200,
        help_text="Facebook: the app secret (checks X-Hub-Signature-256). Google: the webhook key (google_key). "
        "Generic: a shared secret sent as X-Nightshift-Secret, or used to sign the body as X-Signature-256.",
    )
    verify_token = models.CharField(
        max_length=200, blank=True, help_text="Facebook only: the token you typed in the webhook subscription."
    )
    access_token = models.CharField(
        max_length=500, blank=True, help_text="Facebook only: a page access token, to read each lead's answers."
    )
    field_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='Generic only: JSONPath per field, e.g. {"name": "$.contact.full_name", "email": "$.contact.email", '
        '"phone": "$.contact.phone", "message": "$.details", "external_id": "$.id"}.',
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = History()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind == self.Kind.GENERIC and (errors := field_map_errors(self.field_map)):
            raise ValidationError({"field_map": errors})
        if self.kind == self.Kind.FACEBOOK and not (self.verify_token and self.access_token):
            raise ValidationError("Facebook needs the verify token and a page access token.")


class ChatWidget(models.Model):
    """A chat box on a customer-facing site: <script src=".../static/js/chat.js" data-nightshift-chat="<slug>">."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    source = models.CharField(max_length=100, help_text="Label stored on every lead from this chat.")
    greeting = models.CharField(
        max_length=300, default="Hi! How can we help? Leave your number or email and we'll reply here."
    )
    allowed_origins = models.TextField(
        blank=True,
        help_text="Sites that may embed it, one per line (https://www.example.com). Blank: any site.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = History()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def origin_allowed(self, origin: str) -> bool:
        allowed = {o.strip().rstrip("/") for o in self.allowed_origins.splitlines() if o.strip()}
        return not allowed or origin.rstrip("/") in allowed


def chat_token() -> str:
    return secrets.token_urlsafe(24)


class ChatSession(models.Model):
    """One visitor's conversation: the bearer token their browser keeps, and the lead it belongs to."""

    widget = models.ForeignKey(ChatWidget, on_delete=models.CASCADE, related_name="sessions")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="chat_sessions")
    token = models.CharField(max_length=64, unique=True, default=chat_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["lead", "last_seen_at"])]

    def __str__(self):
        return f"Chat with {self.lead} on {self.widget}"


class CalendarConnection(models.Model):
    """A rep's external calendar: its busy times keep bookings off them, and bookings are written to it (CalDAV).

    The password or token is never stored here: ``credential_ref`` says where the process finds it, an
    environment variable (``env:NAME``) or a mounted secret file (``file:/run/secrets/name``), so the database
    and its backups hold no calendar credential and rotating one needs no admin edit.
    """

    class Kind(models.TextChoices):
        CALDAV = "caldav", "CalDAV (Nextcloud, Fastmail, iCloud, Radicale…)"
        GOOGLE = "google", "Google Calendar (freeBusy)"
        MICROSOFT = "microsoft", "Microsoft 365 (Graph getSchedule)"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_connection",
        help_text="The rep whose it is.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CALDAV)
    url = models.URLField(
        max_length=500,
        blank=True,
        help_text="CalDAV: the calendar collection's URL. Google and Microsoft: blank for their public API "
        "(a different base only for a proxy).",
    )
    username = models.CharField(max_length=200, blank=True, help_text="CalDAV only.")
    credential_ref = models.CharField(
        max_length=300,
        help_text="Where the CalDAV password or the OAuth access token is: env:NAME or file:/path. "
        "Never the secret itself.",
    )
    calendar_id = models.CharField(
        max_length=254,
        blank=True,
        help_text="Google: the calendar id (primary, or an address). Microsoft: the mailbox whose schedule is read.",
    )
    active = models.BooleanField(default=True)
    last_ok_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=300, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History(excluded_fields=["last_ok_at", "last_error", "last_error_at"])

    class Meta:
        ordering = ["user_id"]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.user}"

    def clean(self):
        errors = {}
        ref = self.credential_ref.strip()
        if not (ref.startswith("env:") and ref[4:].strip()) and not (ref.startswith("file:/") and len(ref) > 6):
            errors["credential_ref"] = "Say where the secret is: env:NAME or file:/path (never the secret itself)."
        if self.kind == self.Kind.CALDAV and not self.url:
            errors["url"] = "A CalDAV connection needs the calendar's URL."
        if self.kind in (self.Kind.GOOGLE, self.Kind.MICROSOFT) and not self.calendar_id.strip():
            errors["calendar_id"] = "Name the calendar (Google) or the mailbox (Microsoft)."
        if errors:
            raise ValidationError(errors)
