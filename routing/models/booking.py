"""Booking in the conversation: the kinds of meeting a lead may book, and the times offered to a lead."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from audit.history import History
from leads.conditions import empty_conditions, validate_conditions
from routing.models.people import Rep, Team


class BookingType(models.Model):
    """A kind of meeting a lead may book (an estimate visit, a call, a showing): how long, when, with whom.

    Which type a lead is offered: the first active one, by priority, whose conditions hold for the lead (the
    routing rules' language: ``product_line is roofing``). Its reps are the ones named plus every rep of the
    teams named (nobody named: every rep who takes leads).
    """

    class LocationKind(models.TextChoices):
        ON_SITE = "on_site", "On site (the lead's address)"
        PHONE = "phone", "Phone call"
        VIDEO = "video", "Video call"

    class TeamMode(models.TextChoices):
        OWNER = "owner", "The lead's owner only"
        ROUND_ROBIN = "round_robin", "Any rep of the type, round-robin by booked meetings"

    class OfferIn(models.TextChoices):
        FIRST_MESSAGE = "first_message", "Our first message (even a clarifying question)"
        FIRST_RESPONSE = "first_response", "The first answer, once nothing is missing"
        MANUAL = "manual", "Never by itself: a rep sends the link from the lead page"

    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    active = models.BooleanField(default=True)
    priority = models.PositiveIntegerField(default=100, help_text="Lower is tried first.")
    conditions = models.JSONField(
        default=empty_conditions, blank=True, help_text="Which leads it is for; none: every lead."
    )
    duration_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(240)], help_text="Kept free before (travel to a site)."
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(240)], help_text="Kept free after (notes, travel back)."
    )
    min_notice_minutes = models.PositiveIntegerField(
        default=120, help_text="No time sooner than this from now is offered or booked."
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(90)], help_text="How far ahead it may be."
    )
    step_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text="Times start on the rep's clock every so many minutes from midnight (30: 9:00, 9:30…).",
    )
    location_kind = models.CharField(max_length=10, choices=LocationKind.choices, default=LocationKind.PHONE)
    location_detail = models.CharField(
        max_length=200, blank=True, help_text="The video link, or the address when it is not the lead's."
    )
    team_mode = models.CharField(max_length=12, choices=TeamMode.choices, default=TeamMode.ROUND_ROBIN)
    reps = models.ManyToManyField(Rep, blank=True, related_name="booking_types")
    teams = models.ManyToManyField(Team, blank=True, related_name="booking_types")
    offer_in = models.CharField(max_length=20, choices=OfferIn.choices, default=OfferIn.FIRST_RESPONSE)
    min_score = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)], help_text="Offered in a message only to leads scoring this."
    )
    offer_count = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(2), MaxValueValidator(3)], help_text="Times named in a message."
    )
    link_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(60)], help_text="How long a link works."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self):
        return f"{self.name} ({self.duration_minutes} min)"

    def clean(self):
        try:
            validate_conditions(self.conditions)
        except ValueError as exc:
            raise ValidationError({"conditions": str(exc)}) from exc
        if self.location_kind == self.LocationKind.VIDEO and not self.location_detail.strip():
            raise ValidationError({"location_detail": "A video meeting needs its link."})

    @property
    def location_text(self) -> str:
        return self.location_detail.strip() or self.get_location_kind_display()


class BookingOffer(models.Model):
    """Times offered to a lead for one booking type: what their reply, or their link, picks from.

    ``slots`` are the offered starts (ISO 8601, UTC), in the order the message named them. A reply that does not
    say which gets one clarifying question (``clarified_at``); a second unclear reply goes to a person.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        BOOKED = "booked", "Booked"
        HANDED_OVER = "handed_over", "Handed to a person"
        CLOSED = "closed", "Closed"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="booking_offers")
    booking_type = models.ForeignKey(BookingType, on_delete=models.PROTECT, related_name="offers")
    slots = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    language = models.CharField(max_length=5, blank=True)
    clarified_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        "leads.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="booking_offers"
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lead", "-created_at"], name="booking_offer_lead")]

    def __str__(self):
        return f"{self.booking_type.name} for lead {self.lead_id} ({self.status})"

    @property
    def starts(self) -> list[datetime]:
        return [datetime.fromisoformat(s) for s in self.slots]
