"""Writes for leads: capture is the one door every inbound signal comes through."""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Decision
from audit.services import decision_record
from config.exceptions import ConflictError
from config.queue import enqueue_on_commit
from integrations.models import CrmEvent
from integrations.outbound import crm_event_emit, lead_data
from leads.choices import Channel, Stage
from leads.models import Appointment, InboundEvent, Lead, Message
from leads.normalize import mask_phone, normalize_email, normalize_phone
from leads.selectors import lead_get_by_contact
from routing.cadences import (
    cadences_on_appointment_cancelled,
    cadences_on_appointment_moved,
    cadences_on_booking,
    cadences_on_reply,
    lead_stage_moved,
)
from routing.sla import lead_touch

logger = logging.getLogger(__name__)

# Fields copied onto an existing lead only while the lead's own value is still blank.
FILLABLE_FIELDS = ("name", "company", "postal_code", "country")


@dataclass(frozen=True)
class CaptureEvent:
    """A channel-neutral inbound signal, as every parser (API, form, webhook) produces it."""

    channel: str
    source: str
    external_id: str | None = None
    name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    message: str = ""
    postal_code: str = ""
    country: str = ""
    received_at: datetime | None = None
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CaptureResult:
    event: InboundEvent
    lead: Lead
    duplicate: bool
    lead_created: bool = False


PROCESS_TASK = "routing.tasks.process_event"


def request_fingerprint(data) -> str:
    """Stable hash of a request body, to tell a true replay from a reused idempotency key."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def capture_clean(event: CaptureEvent) -> tuple[str, str]:
    """Validate and normalize the contact fields; raise ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {}
    if event.channel not in Channel.values:
        errors["channel"] = [f"'{event.channel}' is not one of: {', '.join(Channel.values)}."]
    if not event.source.strip():
        errors["source"] = ["This field may not be blank."]
    phone = email = ""
    try:
        phone = normalize_phone(event.phone, region=event.country or settings.DEFAULT_PHONE_REGION)
    except ValidationError as exc:
        errors["phone"] = exc.messages
    try:
        email = normalize_email(event.email)
    except ValidationError:
        errors["email"] = [f"'{event.email}' is not an email address."]
    if not (event.phone.strip() or event.email.strip()):
        reason = "Give a phone number or an email address so the lead can be reached."
        errors["phone"] = errors["email"] = [reason]
    if errors:
        raise ValidationError(errors)
    return phone, email


def _find_replay(event: CaptureEvent, idempotency_key: str | None, request_hash: str) -> InboundEvent | None:
    if idempotency_key:
        existing = InboundEvent.objects.select_related("lead").filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if request_hash and existing.request_hash and existing.request_hash != request_hash:
                raise ConflictError(
                    "This Idempotency-Key was already used with a different body.",
                    extra={"event": existing.pk},
                )
            return existing
    if event.external_id:
        return (
            InboundEvent.objects.select_related("lead")
            .filter(source=event.source, external_id=event.external_id)
            .first()
        )
    return None


def _lead_attach_or_create(event: CaptureEvent, phone: str, email: str) -> tuple[Lead, bool]:
    lead = lead_get_by_contact(phone=phone, email=email)
    if lead is None:
        lead = Lead(
            phone=phone,
            email=email,
            channel=event.channel,
            source=event.source.strip()[:100],
            created_at=min(event.received_at or timezone.now(), timezone.now()),
            **{f: getattr(event, f).strip() for f in FILLABLE_FIELDS},
        )
        lead.country = lead.country.upper()
        # The InboundEvent stored with it is the record of the lead's state at capture; its first
        # history row is written moments later by the pipeline's qualification. Skipping the
        # duplicate here keeps capture to the writes it needs (measured in bench/ingest.py).
        lead.skip_history_when_saving = True
        lead.save()
        del lead.skip_history_when_saving
        return lead, True
    changed = [f for f in FILLABLE_FIELDS if not getattr(lead, f) and getattr(event, f).strip()]
    for f in changed:
        setattr(lead, f, getattr(event, f).strip())
    for f, value in (("phone", phone), ("email", email)):
        if value and not getattr(lead, f) and not Lead.objects.filter(**{f: value}).exists():
            setattr(lead, f, value)
            changed.append(f)
    if changed:
        lead._change_reason = f"filled {', '.join(changed)} from a {event.channel} event"
        lead.save(update_fields=[*changed, "updated_at"])
    return lead, False


def lead_capture(*, event: CaptureEvent, idempotency_key: str | None = None, request_hash: str = "") -> CaptureResult:
    """Store an inbound event and attach it to its (deduplicated) lead; validates its input.

    Idempotent: a repeated ``idempotency_key`` or (source, external_id) returns the first event
    and stores nothing. The raw payload is committed before any reasoning; processing is queued
    on commit. The event row is the audit record of the capture (who, when, what, and whether it
    started a new lead). Raises ValidationError (field -> messages) or ConflictError.
    """
    phone, email = capture_clean(event)
    try:
        return _capture_once(event, phone, email, idempotency_key, request_hash)
    except IntegrityError:
        # A concurrent capture of the same event or person won the race on a unique constraint;
        # this second pass finds the winner's rows (a replay, or the lead to attach to).
        return _capture_once(event, phone, email, idempotency_key, request_hash)


def _capture_once(
    event: CaptureEvent, phone: str, email: str, idempotency_key: str | None, request_hash: str
) -> CaptureResult:
    replay = _find_replay(event, idempotency_key, request_hash)
    if replay is not None:
        return CaptureResult(event=replay, lead=replay.lead, duplicate=True)
    with transaction.atomic():
        lead, created = _lead_attach_or_create(event, phone, email)
        inbound = InboundEvent.objects.create(
            lead=lead,
            channel=event.channel,
            source=event.source.strip(),
            external_id=event.external_id or "",
            idempotency_key=idempotency_key or "",
            request_hash=request_hash,
            name=event.name,
            email=event.email,
            phone=event.phone,
            company=event.company,
            postal_code=event.postal_code,
            country=event.country,
            message=event.message,
            payload=event.payload,
            received_at=event.received_at or timezone.now(),
            lead_created=created,
        )
        if not created:
            cadences_on_reply(lead=lead, event=inbound)
        enqueue_on_commit(PROCESS_TASK, inbound.pk)
    logger.info(
        "lead.captured",
        extra={"lead_id": lead.pk, "event_id": inbound.pk, "channel": event.channel, "phone": mask_phone(phone)},
    )
    return CaptureResult(event=inbound, lead=lead, duplicate=False, lead_created=created)


@transaction.atomic
def lead_call_log(*, lead: Lead, user, note: str) -> Message:
    """Record a call a person made to the lead (a note is required); it counts as the first touch."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say what happened on the call."})
    if len(note) > 2000:
        raise ValidationError({"note": f"At most 2000 characters; this note has {len(note)}."})
    now = timezone.now()
    message = Message.objects.create(
        lead=lead,
        direction=Message.Direction.OUTBOUND,
        channel=Channel.CALL,
        to=lead.phone,
        body=note,
        status=Message.Status.SENT,
        sent_at=now,
    )
    Lead.objects.filter(pk=lead.pk).update(last_outbound_at=now)
    lead_touch(lead=lead, how="call logged", actor=user)
    return message


# Entering one of these ends the conversation: whatever still waits to be sent is cancelled.
CLOSED_STAGES = (Stage.WON, Stage.LOST, Stage.UNQUALIFIED, Stage.SPAM)


@transaction.atomic
def lead_stage_set(*, lead_id: int, stage: str, user) -> Lead:
    """A person (or, through the API, the CRM) moves the lead to another stage; kept in history and logged.

    A closing stage cancels the lead's waiting actions; the change is announced to subscribed CRMs
    with who made it, so a CRM can recognise its own change coming back.
    """
    if stage not in Stage.values:
        raise ValidationError({"stage": f"Choose one of: {', '.join(Stage.values)}."})
    lead = Lead.objects.select_for_update(of=("self",)).get(pk=lead_id)
    before = lead.stage
    if before == stage:
        return lead
    person = None if getattr(user, "is_api_key", False) else user
    lead.stage = stage
    lead._history_user = person
    lead._change_reason = f"stage {before} → {stage} by {user}"[:100]
    lead.save(update_fields=["stage", "updated_at"])
    cancelled = 0
    if stage in CLOSED_STAGES:
        from approvals.services import actions_cancel_waiting  # approvals builds on leads

        cancelled = actions_cancel_waiting(lead=lead, reason=f"The lead moved to {Stage(stage).label}.")
    decision_record(
        step=Decision.Step.STAGE,
        lead=lead,
        actor=person,
        output={"before": before, "stage": stage, "cancelled": cancelled},
        reasoning=f"{user} moved the lead from {Stage(before).label} to {Stage(stage).label}"
        + (f"; {cancelled} waiting action(s) cancelled." if cancelled else "."),
    )
    lead_stage_moved(lead, before=before, by=str(user))
    return lead


INVITE_TASK = "integrations.tasks.send_invite"


def _local_datetime(value, tz_name: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError({"starts_at": "Give a date and time, like 2026-12-01T14:30."}) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=ZoneInfo(tz_name))
    return moment


def _appointment_checked(lead: Lead, starts_at, duration_minutes, location: str) -> tuple[datetime, int]:
    """The start on the lead's clock and the duration, validated; ValidationError names each bad field."""
    moment = _local_datetime(starts_at, lead.timezone or settings.TIME_ZONE)
    errors = {}
    if moment <= timezone.now():
        errors["starts_at"] = "Pick a time in the future."
    try:
        duration_minutes = int(duration_minutes)
    except (TypeError, ValueError):
        duration_minutes = 0
    if not 5 <= duration_minutes <= 600:
        errors["duration_minutes"] = "Between 5 and 600 minutes."
    if len(location) > 200:
        errors["location"] = "At most 200 characters."
    if errors:
        raise ValidationError(errors)
    return moment, duration_minutes


def _appointment_lock(appointment_id: int, lead_id: int | None = None) -> Appointment:
    found = Appointment.objects.select_for_update(of=("self",)).select_related("lead").filter(pk=appointment_id)
    appointment = found.filter(lead_id=lead_id).first() if lead_id is not None else found.first()
    if appointment is None:
        raise Appointment.DoesNotExist("No such appointment.")
    if appointment.status == Appointment.Status.CANCELLED:
        raise ConflictError("This appointment is already cancelled.")
    return appointment


@transaction.atomic
def appointment_reschedule(
    *, appointment_id: int, user, starts_at, duration_minutes=None, location=None, lead_id: int | None = None
) -> Appointment:
    """Move a booked appointment; the guests get an updated invite (same UID, next SEQUENCE)."""
    appointment = _appointment_lock(appointment_id, lead_id)
    location = appointment.location if location is None else location.strip()
    duration = appointment.duration_minutes if duration_minutes in (None, "") else duration_minutes
    moment, duration = _appointment_checked(appointment.lead, starts_at, duration, location)
    before = appointment.starts_at
    appointment.starts_at, appointment.duration_minutes, appointment.location = moment, duration, location
    appointment.sequence += 1
    appointment._history_user = user
    appointment.save(update_fields=["starts_at", "duration_minutes", "location", "sequence", "updated_at"])
    decision_record(
        step=Decision.Step.BOOK,
        lead=appointment.lead,
        actor=user,
        output={"appointment": appointment.pk, "before": before.isoformat(), "starts_at": moment.isoformat()},
        reasoning=f"{user} moved the appointment to {moment.isoformat()}.",
    )
    cadences_on_appointment_moved(appointment=appointment)
    enqueue_on_commit(INVITE_TASK, appointment.pk)
    return appointment


@transaction.atomic
def appointment_cancel(*, appointment_id: int, user, lead_id: int | None = None) -> Appointment:
    """Cancel a booked appointment; the guests get a CANCEL for the invite they hold."""
    appointment = _appointment_lock(appointment_id, lead_id)
    appointment.status = Appointment.Status.CANCELLED
    appointment.sequence += 1
    appointment._history_user = user
    appointment.save(update_fields=["status", "sequence", "updated_at"])
    decision_record(
        step=Decision.Step.BOOK,
        lead=appointment.lead,
        actor=user,
        output={"appointment": appointment.pk, "status": "cancelled"},
        reasoning=f"{user} cancelled the appointment of {appointment.starts_at.isoformat()}.",
        outcome=Decision.Outcome.SKIPPED,
    )
    cadences_on_appointment_cancelled(appointment=appointment)
    enqueue_on_commit(INVITE_TASK, appointment.pk)
    return appointment


@transaction.atomic
def appointment_book(
    *, lead_id: int, user, starts_at, duration_minutes: int = 60, location: str = "", note: str = ""
) -> Appointment:
    """Book a meeting with the lead (a time without a zone is on the lead's clock); the lead moves to Appointment."""
    lead = Lead.objects.select_for_update(of=("self",)).get(pk=lead_id)
    tz_name = lead.timezone or settings.TIME_ZONE
    moment, duration_minutes = _appointment_checked(lead, starts_at, duration_minutes, location)
    appointment = Appointment.objects.create(
        lead=lead,
        starts_at=moment,
        duration_minutes=duration_minutes,
        location=location.strip(),
        note=note.strip(),
        booked_by=user,
    )
    changed = []
    before = lead.stage
    if lead.stage != Stage.APPOINTMENT:
        lead.stage = Stage.APPOINTMENT
        changed.append("stage")
    if changed:
        lead._history_user = user
        lead._change_reason = "appointment booked"
        lead.save(update_fields=[*changed, "updated_at"])
    local = moment.astimezone(ZoneInfo(tz_name))
    decision_record(
        step=Decision.Step.BOOK,
        lead=lead,
        actor=user,
        output={"appointment": appointment.pk, "starts_at": moment.isoformat(), "duration_minutes": duration_minutes},
        reasoning=f"{user} booked {local:%a %b %d, %H:%M} ({tz_name}) for {duration_minutes} min"
        + (f" at {appointment.location}" if appointment.location else "")
        + ".",
    )
    lead_touch(lead=lead, how="appointment booked", actor=user)
    enqueue_on_commit(INVITE_TASK, appointment.pk)
    cadences_on_booking(appointment=appointment, user=user)
    lead_stage_moved(lead, before=before, by=str(user))
    crm_event_emit(
        CrmEvent.APPOINTMENT_BOOKED,
        lead=lead,
        data=lambda: {
            "lead": lead_data(lead),
            "appointment": {
                "id": appointment.pk,
                "starts_at": moment.isoformat(),
                "duration_minutes": duration_minutes,
                "location": appointment.location,
            },
        },
    )
    return appointment
