import hashlib
import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

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
