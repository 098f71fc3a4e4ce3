"""What starts and stops cadences: a new lead, a stage, a booking, our message going out, a reply, an opt-out.

Each runs inside the transaction of what set it off (most through leads.reactions and approvals.reactions).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from approvals.models import Action
from audit.models import Decision
from leads.choices import Stage
from leads.models import Appointment, InboundEvent, Lead
from routing.cadences.book import BOOK, Rules, cadence_note, iso, local_text, position_first_ahead, step_schedule
from routing.cadences.enrollment import enroll_quietly, enrollment_withdraw, lead_cadences_stop
from routing.lock_objects import enrollments_running_lock
from routing.models import Cadence, Enrollment, StepRun
from routing.models.cadences import WAITING

logger = logging.getLogger(__name__)


def cadences_triggered(trigger: str, stage: str | None = None) -> list[Cadence]:
    """The active cadences ``trigger`` starts (entering ``stage``, for a stage trigger), oldest first."""
    return [
        cadence
        for cadence, _ in BOOK.get().cadences.values()
        if cadence.active and cadence.trigger == trigger and (stage is None or cadence.trigger_stage == stage)
    ]


def cadences_on_lead_created(*, lead: Lead) -> list[Enrollment]:
    """Enroll a new (not noise) lead in every active cadence started by a new lead."""
    rules = Rules()
    found = [enroll_quietly(c, lead, "new lead", rules) for c in cadences_triggered(Cadence.Trigger.LEAD_CREATED)]
    return [e for e in found if e]


def cadences_on_stage(*, lead: Lead, before: str, by: str = "") -> None:
    """A stage change: stop the cadences that stage ends, then start those it begins (qualified, quoted, won…)."""
    if lead.stage == before:
        return
    label = Stage(lead.stage).label
    lead_cadences_stop(
        lead=lead,
        kind=Enrollment.StopKind.STAGE,
        reason=f"The lead moved to {label}.",
        where=lambda cadence: lead.stage in cadence.stop_stage_list,
    )
    rules = Rules()
    starting = list(cadences_triggered(Cadence.Trigger.STAGE_ENTERED, lead.stage))
    if lead.stage == Stage.QUALIFIED:
        starting += list(cadences_triggered(Cadence.Trigger.QUALIFIED))
    for cadence in starting:
        enroll_quietly(cadence, lead, f"entered {label}" + (f" ({by})" if by else ""), rules)


def cadences_on_booking(*, appointment: Appointment, user=None) -> None:
    """A booking stops the cadences it answers (quote follow-ups) and starts the appointment's reminders."""
    lead = appointment.lead
    lead_cadences_stop(
        lead=lead,
        kind=Enrollment.StopKind.BOOKED,
        reason="An appointment was booked.",
        where=lambda cadence: cadence.stop_on_booking and cadence.trigger != Cadence.Trigger.APPOINTMENT,
    )
    rules = Rules()
    for cadence in cadences_triggered(Cadence.Trigger.APPOINTMENT):
        enroll_quietly(cadence, lead, "appointment booked", rules, appointment=appointment, user=user)


def cadences_on_appointment_moved(*, appointment: Appointment) -> None:
    """Reminders follow the appointment: counted again from its new time; what the old time proposed is withdrawn."""
    rules = Rules()
    now = timezone.now()
    for enrollment in enrollments_running_lock(appointment=appointment):
        enrollment.appointment = appointment
        cadence, steps = rules.cadence(enrollment.cadence_id)
        enrollment_withdraw(enrollment, "The appointment moved.")
        enrollment.cycle += 1
        enrollment.position = 0
        enrollment.attempts = 0
        position_first_ahead(enrollment, cadence, steps, rules, now)
        if enrollment.status == Enrollment.Status.ACTIVE:
            step_schedule(enrollment, cadence, steps, rules, now)
        enrollment.save()
        cadence_note(
            cadence,
            appointment.lead,
            output={"enrollment": enrollment.pk, "next_run_at": iso(enrollment.next_run_at)},
            reasoning=f"'{cadence}' counted again from the appointment's new time"
            + (
                f"; next step {local_text(enrollment.next_run_at, appointment.lead)}."
                if enrollment.next_run_at
                else "."
            ),
        )


def cadences_on_appointment_cancelled(*, appointment: Appointment) -> None:
    lead_cadences_stop(
        lead=appointment.lead,
        kind=Enrollment.StopKind.APPOINTMENT_CANCELLED,
        reason="The appointment was cancelled.",
        appointment=appointment,
    )


def cadences_on_sent(*, action: Action) -> None:
    """Our message went out: start each 'no reply' cadence's clock, unless that cadence's own step sent it.

    A 'no reply' cadence whose own message re-started it would follow up forever: that loop is
    refused here and logged.
    """
    no_reply = list(cadences_triggered(Cadence.Trigger.NO_REPLY))
    if not no_reply:
        return
    lead = action.lead
    # A cadence step proposes without an event (_step_run): an answer to an event is never a cadence's own message.
    own = (
        set()
        if action.event_id is not None
        else set(StepRun.objects.filter(action=action).values_list("enrollment__cadence_id", flat=True))
    )
    rules = Rules()
    for cadence in no_reply:
        if cadence.pk in own:
            cadence_note(
                cadence,
                lead,
                output={"cadence": cadence.pk, "action": action.pk},
                reasoning=f"Not started again: '{cadence}' sent this message itself (it would re-trigger forever).",
                outcome=Decision.Outcome.SKIPPED,
            )
            continue
        if Enrollment.objects.filter(cadence=cadence, lead=lead, status__in=WAITING).exists():
            continue
        enroll_quietly(cadence, lead, f"no reply {cadence.trigger_hours} h after our message", rules)


def cadences_on_reply(*, lead: Lead, event: InboundEvent) -> None:
    """The lead wrote or called: credit the step it answers and stop the cadences that stop on a reply.

    Runs inside capture's transaction, so a step due a moment later finds its enrollment stopped.
    """
    since = timezone.now() - timedelta(days=settings.CADENCE_REPLY_DAYS)
    answered = (
        StepRun.objects.filter(
            enrollment__lead=lead,
            status=StepRun.Status.PROPOSED,
            action__status=Action.Status.DONE,
            created_at__gte=since,
            created_at__lte=event.received_at,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if answered is not None and answered.replied_at is None:
        StepRun.objects.filter(pk=answered.pk).update(replied_at=event.received_at)
    lead_cadences_stop(
        lead=lead,
        kind=Enrollment.StopKind.REPLY,
        reason=f"The lead replied by {event.get_channel_display().lower()}.",
        where=lambda cadence: cadence.stop_on_reply,
    )


def cadences_on_opt_out(*, lead: Lead, reason: str, channel: str = "", record=None, confirm: bool = False) -> None:
    """The lead opted out (STOP, or said so), of one channel or of all: every cadence stops."""
    lead_cadences_stop(lead=lead, kind=Enrollment.StopKind.OPT_OUT, reason=reason)


def cadences_on_reassign(*, lead: Lead, rep) -> None:
    lead_cadences_stop(
        lead=lead,
        kind=Enrollment.StopKind.REASSIGNED,
        reason=f"The lead was reassigned to {rep}.",
        where=lambda cadence: cadence.stop_on_reassign,
    )
