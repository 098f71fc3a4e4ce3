"""Appointments with a lead: when, with whom, the invite's and the connected calendar's versions, and attendance."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from audit.history import History


def appointment_uid() -> str:
    return f"{uuid.uuid4()}@nightshift"


class Appointment(models.Model):
    """A meeting booked with the lead (site visit, call); reminders and invites are computed from ``starts_at``.

    ``host`` is the person who meets the lead: the meeting holds their time (with ``buffer_before_minutes`` and
    ``buffer_after_minutes`` around it) when free times are computed, and goes into their connected calendar.
    """

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    class Attendance(models.TextChoices):
        UNMARKED = "", "Not marked"
        ATTENDED = "attended", "Showed up"
        NO_SHOW = "no_show", "No-show"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="appointments")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    location = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hosted_appointments",
        db_index=False,
        help_text="Who meets the lead: the meeting holds their time and goes into their connected calendar.",
    )
    # The time the meeting holds around it (travel to a site, notes after a call): free times keep it clear.
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0)
    attendance = models.CharField(max_length=10, choices=Attendance.choices, blank=True, default="")
    attendance_marked_at = models.DateTimeField(null=True, blank=True)
    # The invite's identity in the guests' calendars: one UID for its life, SEQUENCE bumped by every change.
    uid = models.CharField(max_length=100, unique=True, default=appointment_uid, editable=False)
    sequence = models.PositiveIntegerField(default=0, editable=False)
    # The SEQUENCE last emailed: the invite task sends only what is newer (a retry never re-sends).
    invite_sent_sequence = models.IntegerField(default=-1, editable=False)
    # The SEQUENCE last written to the host's connected calendar, and why the last write failed ("" once it went).
    calendar_written_sequence = models.IntegerField(default=-1, editable=False)
    calendar_error = models.CharField(max_length=300, blank=True, editable=False)
    calendar_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # A calendar write's bookkeeping is not a change of the meeting worth a history row.
    history = History(excluded_fields=["calendar_written_sequence", "calendar_error", "calendar_attempts"])

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["lead", "starts_at"]),
            # Free times read a host's booked meetings in a window; cancelled ones never matter there.
            models.Index(fields=["host", "starts_at"], condition=Q(status="booked"), name="appointment_host_booked"),
        ]

    def __str__(self):
        return f"{self.lead} at {self.starts_at:%Y-%m-%d %H:%M}"
