"""Cadences: enrolling leads, running due steps through the one road (``action_propose``), and stopping them.

A due step is picked under the enrollment's row lock (``skip_locked``, so several workers share
a pass), checked again against everything that may have changed since it was scheduled (stop
conditions, the cadence's steps, the appointment's time, quiet hours), then proposed. Stopping
takes the same lock and cancels what the enrollment proposed and is still waiting to go.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from approvals.drafting import DraftContent
from approvals.models import Action, MessageTemplate, Policy, render_text
from approvals.services import action_propose, actions_cancel_waiting, policy_for
from audit.models import Decision
from audit.services import decision_record
from config.exceptions import ConflictError
from config.queue import enqueue
from config.versions import SETTINGS_KEY, Snapshot
from integrations.outbound import lead_stage_changed
from leads.choices import Stage
from leads.models import Appointment, InboundEvent, Lead
from leads.permissions import is_manager
from leads.selectors import sms_opt_outs
from routing import timing
from routing.directory import owner_first_name
from routing.exceptions import EnrollmentNotFound
from routing.models import Cadence, CadenceStep, Enrollment, Holiday, QuietHours, StepRun
from routing.models.cadences import WAITING

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CadenceBook:
    """Every cadence with its steps (and their templates), the holidays and the quiet-hours rows: one snapshot."""

    cadences: dict[int, tuple[Cadence, list[CadenceStep]]]
    holidays: frozenset[date]
    quiet_hours: dict[str, timing.Window]


def _steps():
    return CadenceStep.objects.select_related("template").order_by("position", "id")


def _book_build() -> CadenceBook:
    cadences = Cadence.objects.prefetch_related(Prefetch("steps", queryset=_steps())).order_by("pk")
    return CadenceBook(
        cadences={c.pk: (c, list(c.steps.all())) for c in cadences},
        holidays=frozenset(Holiday.objects.values_list("date", flat=True)),
        quiet_hours={q.channel: timing.Window(q.allowed_from, q.allowed_until) for q in QuietHours.objects.all()},
    )


# Templates are in it through the steps; the book is read several times for every lead and every send.
_book = Snapshot(SETTINGS_KEY, _book_build, (Cadence, CadenceStep, MessageTemplate, Holiday, QuietHours))


class Rules:
    """What a pass reads once, however many steps it runs: cadences and their steps, policies, quiet hours, holidays.

    A pass lasts seconds; an edit made meanwhile applies from the next pass.
    """

    def __init__(self):
        self._book = _book.get()
        self._policies: dict[str, Policy] = {}

    def policy(self, workflow: str) -> Policy:
        if workflow not in self._policies:
            self._policies[workflow] = policy_for(workflow)
        return self._policies[workflow]

    def cadence(self, cadence_id: int) -> tuple[Cadence, list[CadenceStep]]:
        found = self._book.cadences.get(cadence_id)
        if found is None:  # made after this pass began
            cadence = Cadence.objects.get(pk=cadence_id)
            found = cadence, list(_steps().filter(cadence=cadence))
        return found

    @property
    def holidays(self) -> frozenset[date]:
        return self._book.holidays

    @cached_property
    def windows(self) -> dict[str, timing.Window]:
        default = timing.Window.parse(settings.CADENCE_QUIET_HOURS)
        return {channel: self._book.quiet_hours.get(channel, default) for channel in QuietHours.Channel.values}

    def window(self, channel: str) -> timing.Window | None:
        # A Slack nudge reaches the team, not the lead: the lead's quiet hours do not apply.
        return self.windows.get(channel)


def _note(cadence: Cadence, lead: Lead, *, reasoning: str, output: dict | None = None, **extra) -> None:
    """One line on the lead's timeline about a cadence (the Decision log's ``cadence`` step)."""
    decision_record(
        step=Decision.Step.CADENCE, lead=lead, workflow=cadence.workflow, reasoning=reasoning, output=output, **extra
    )


def _tz(lead: Lead) -> ZoneInfo:
    return ZoneInfo(lead.timezone or settings.TIME_ZONE)


def step_due(enrollment: Enrollment, cadence: Cadence, step: CadenceStep, rules: Rules) -> datetime:
    """When ``step`` falls due for ``enrollment``, before quiet hours: after the start, or before the appointment."""
    tz = _tz(enrollment.lead)
    if cadence.trigger == Cadence.Trigger.APPOINTMENT and enrollment.appointment_id:
        base = enrollment.appointment.starts_at
        return timing.offset(base, delay=step.delay, unit=step.delay_unit, tz=tz, holidays=rules.holidays, before=True)
    base = enrollment.started_at
    if cadence.trigger == Cadence.Trigger.NO_REPLY:
        base += timedelta(hours=cadence.trigger_hours or 0)
    return timing.offset(base, delay=step.delay, unit=step.delay_unit, tz=tz, holidays=rules.holidays)


def step_slot(moment: datetime, lead: Lead, step: CadenceStep, rules: Rules) -> datetime:
    """The first instant at or after ``moment`` the step's channel may reach ``lead`` (quiet hours, business days)."""
    return timing.next_allowed(
        moment,
        tz=_tz(lead),
        window=rules.window(step.channel),
        holidays=rules.holidays,
        business_days_only=step.delay_unit == CadenceStep.Unit.BUSINESS_DAYS,
    )


def _schedule(enrollment: Enrollment, cadence: Cadence, steps: list[CadenceStep], rules: Rules, now: datetime) -> None:
    """Set ``next_run_at`` for the enrollment's current step, or complete it when no step is left."""
    if enrollment.position >= len(steps):
        enrollment.status, enrollment.next_run_at, enrollment.ended_at = Enrollment.Status.COMPLETED, None, now
        return
    step = steps[enrollment.position]
    enrollment.next_run_at = step_slot(
        max(step_due(enrollment, cadence, step, rules), now), enrollment.lead, step, rules
    )


# --- enrolling ---------------------------------------------------------------------------------------------


def _cadence_check(cadence: Cadence, steps: list[CadenceStep]) -> None:
    if not cadence.active:
        raise ValidationError({"cadence": f"'{cadence}' is switched off."})
    if not steps:
        raise ValidationError({"cadence": f"'{cadence}' has no steps yet."})


def enrollment_create(
    *,
    cadence: Cadence,
    lead: Lead,
    trigger: str,
    user=None,
    appointment: Appointment | None = None,
    started_at: datetime | None = None,
    rules: Rules | None = None,
) -> Enrollment:
    """Enroll ``lead`` in ``cadence`` and schedule its first step; validates.

    Raises ValidationError when the cadence is off or empty or the lead opted out, and
    ConflictError when the lead is already going through it (one running enrollment each).
    """
    rules = rules or Rules()
    cadence, steps = rules.cadence(cadence.pk)
    _cadence_check(cadence, steps)
    if lead.opted_out:
        raise ValidationError({"lead": "The lead opted out; no cadence may write to them."})
    if cadence.trigger == Cadence.Trigger.APPOINTMENT and appointment is None:
        raise ValidationError({"cadence": f"'{cadence}' sends appointment reminders; book an appointment instead."})
    now = timezone.now()
    enrollment = Enrollment(
        cadence=cadence,
        lead=lead,
        appointment=appointment,
        started_at=started_at or now,
        trigger=trigger[:200],
        enrolled_by=user if user is not None and not getattr(user, "is_api_key", False) else None,
    )
    _position_first_ahead(enrollment, cadence, steps, rules, now)
    _schedule(enrollment, cadence, steps, rules, now)
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:
        raise ConflictError(f"{lead} is already in '{cadence}'.") from None
    _note(
        cadence,
        lead,
        actor=enrollment.enrolled_by,
        output={"enrollment": enrollment.pk, "cadence": cadence.pk, "next_run_at": _iso(enrollment.next_run_at)},
        reasoning=f"Enrolled in '{cadence}' ({trigger}); "
        + (f"first step {_local(enrollment.next_run_at, lead)}." if enrollment.next_run_at else "no step ahead."),
    )
    return enrollment


def _position_first_ahead(
    enrollment: Enrollment, cadence: Cadence, steps: list[CadenceStep], rules: Rules, now: datetime
) -> None:
    """Reminders start at the first step still ahead of the appointment (booked for tomorrow: no '1 week before')."""
    if cadence.trigger != Cadence.Trigger.APPOINTMENT:
        return
    while enrollment.position < len(steps) and step_due(enrollment, cadence, steps[enrollment.position], rules) < now:
        enrollment.position += 1


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _local(moment: datetime, lead: Lead) -> str:
    return f"{moment.astimezone(_tz(lead)):%a %b %d %H:%M} ({lead.timezone or settings.TIME_ZONE})"


def _enroll_quietly(cadence: Cadence, lead: Lead, trigger: str, rules: Rules, **kwargs) -> Enrollment | None:
    """An automatic trigger: enroll unless already enrolled or not allowed, which is logged, not raised."""
    try:
        return enrollment_create(cadence=cadence, lead=lead, trigger=trigger, rules=rules, **kwargs)
    except (ValidationError, ConflictError) as exc:
        logger.info("cadence.not_enrolled", extra={"lead_id": lead.pk, "cadence_id": cadence.pk, "why": str(exc)})
        return None


def _triggered(trigger: str, stage: str | None = None) -> list[Cadence]:
    """The active cadences ``trigger`` starts (entering ``stage``, for a stage trigger), oldest first."""
    return [
        cadence
        for cadence, _ in _book.get().cadences.values()
        if cadence.active and cadence.trigger == trigger and (stage is None or cadence.trigger_stage == stage)
    ]


def cadences_on_lead_created(*, lead: Lead) -> list[Enrollment]:
    """Enroll a new (not noise) lead in every active cadence started by a new lead."""
    rules = Rules()
    found = [_enroll_quietly(c, lead, "new lead", rules) for c in _triggered(Cadence.Trigger.LEAD_CREATED)]
    return [e for e in found if e]


def cadences_on_stage(*, lead: Lead, before: str, by: str = "") -> None:
    """A stage change: stop the cadences that stage ends, then start those it begins (qualified, quoted, won…)."""
    if lead.stage == before:
        return
    label = Stage(lead.stage).label
    enrollments_stop(
        lead=lead,
        kind=Enrollment.StopKind.STAGE,
        reason=f"The lead moved to {label}.",
        where=lambda cadence: lead.stage in cadence.stop_stage_list,
    )
    rules = Rules()
    starting = list(_triggered(Cadence.Trigger.STAGE_ENTERED, lead.stage))
    if lead.stage == Stage.QUALIFIED:
        starting += list(_triggered(Cadence.Trigger.QUALIFIED))
    for cadence in starting:
        _enroll_quietly(cadence, lead, f"entered {label}" + (f" ({by})" if by else ""), rules)


def lead_stage_moved(lead: Lead, *, before: str, by: str) -> None:
    """Everything a stage change sets off: subscribed CRMs hear of it, and cadences stop or start.

    Every writer of a lead's stage calls this (or, for a new lead, announces it as created).
    """
    lead_stage_changed(lead, before=before, by=by)
    cadences_on_stage(lead=lead, before=before, by=by)


def cadences_on_booking(*, appointment: Appointment, user=None) -> None:
    """A booking stops the cadences it answers (quote follow-ups) and starts the appointment's reminders."""
    lead = appointment.lead
    enrollments_stop(
        lead=lead,
        kind=Enrollment.StopKind.BOOKED,
        reason="An appointment was booked.",
        where=lambda cadence: cadence.stop_on_booking and cadence.trigger != Cadence.Trigger.APPOINTMENT,
    )
    rules = Rules()
    for cadence in _triggered(Cadence.Trigger.APPOINTMENT):
        _enroll_quietly(cadence, lead, "appointment booked", rules, appointment=appointment, user=user)


def cadences_on_appointment_moved(*, appointment: Appointment) -> None:
    """Reminders follow the appointment: counted again from its new time; what the old time proposed is withdrawn."""
    rules = Rules()
    now = timezone.now()
    for enrollment in _running(appointment=appointment):
        enrollment.appointment = appointment
        cadence, steps = rules.cadence(enrollment.cadence_id)
        _withdraw(enrollment, "The appointment moved.")
        enrollment.cycle += 1
        enrollment.position = 0
        enrollment.attempts = 0
        _position_first_ahead(enrollment, cadence, steps, rules, now)
        if enrollment.status == Enrollment.Status.ACTIVE:
            _schedule(enrollment, cadence, steps, rules, now)
        enrollment.save()
        _note(
            cadence,
            appointment.lead,
            output={"enrollment": enrollment.pk, "next_run_at": _iso(enrollment.next_run_at)},
            reasoning=f"'{cadence}' counted again from the appointment's new time"
            + (f"; next step {_local(enrollment.next_run_at, appointment.lead)}." if enrollment.next_run_at else "."),
        )


def cadences_on_appointment_cancelled(*, appointment: Appointment) -> None:
    enrollments_stop(
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
    no_reply = list(_triggered(Cadence.Trigger.NO_REPLY))
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
            _note(
                cadence,
                lead,
                output={"cadence": cadence.pk, "action": action.pk},
                reasoning=f"Not started again: '{cadence}' sent this message itself (it would re-trigger forever).",
                outcome=Decision.Outcome.SKIPPED,
            )
            continue
        if Enrollment.objects.filter(cadence=cadence, lead=lead, status__in=WAITING).exists():
            continue
        _enroll_quietly(cadence, lead, f"no reply {cadence.trigger_hours} h after our message", rules)


# --- stopping ----------------------------------------------------------------------------------------------


def _running(**filters):
    # Only the cadence is joined (never changed by a stop); no nullable relation: a lock that waits re-reads
    # only the locked row, and a joined nullable one could come back empty.
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("cadence")
        .filter(status__in=WAITING, **filters)
        .order_by("pk")
    )


def _withdraw(enrollment: Enrollment, reason: str) -> int:
    """Cancel what the enrollment proposed that has not gone yet: a stopped step is never sent."""
    ids = list(StepRun.objects.filter(enrollment=enrollment, action__isnull=False).values_list("action_id", flat=True))
    return actions_cancel_waiting(lead=enrollment.lead, reason=reason, action_ids=ids) if ids else 0


def _end(enrollment: Enrollment, *, kind: str, reason: str, user=None, now: datetime | None = None) -> int:
    enrollment.status = Enrollment.Status.STOPPED
    enrollment.stop_kind, enrollment.stop_reason = kind, reason[:300]
    enrollment.stopped_by = user
    enrollment.next_run_at = None
    enrollment.ended_at = now or timezone.now()
    enrollment.save()
    return _withdraw(enrollment, reason)


def _stop(enrollment: Enrollment, cadence: Cadence, *, kind: str, reason: str, user=None, now=None) -> None:
    """End the enrollment, cancel what it still has waiting, and say so on the lead's timeline."""
    cancelled = _end(enrollment, kind=kind, reason=reason, user=user, now=now)
    _note(
        cadence,
        enrollment.lead,
        actor=user,
        output={"enrollment": enrollment.pk, "stop": kind, "cancelled": cancelled},
        reasoning=f"'{cadence}' stopped: {reason}"
        + (f" {cancelled} waiting action(s) cancelled." if cancelled else ""),
        outcome=Decision.Outcome.FAILED if kind == Enrollment.StopKind.INVALID else Decision.Outcome.SKIPPED,
    )


def enrollments_stop(
    *, lead: Lead, kind: str, reason: str, user=None, where=None, appointment: Appointment | None = None
) -> list[Enrollment]:
    """Stop the lead's running enrollments that ``where(cadence)`` accepts, now; what they had waiting is cancelled."""
    if where is not None and not any(where(cadence) for cadence, _ in _book.get().cadences.values()):
        return []  # no cadence (the book holds them all, active or not) stops on this: nothing to look up
    filters = {"lead": lead} if appointment is None else {"appointment": appointment}
    stopped = []
    for enrollment in _running(**filters):
        enrollment.lead = lead
        if where is None or where(enrollment.cadence):
            _stop(enrollment, enrollment.cadence, kind=kind, reason=reason, user=user)
            stopped.append(enrollment)
    return stopped


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
    enrollments_stop(
        lead=lead,
        kind=Enrollment.StopKind.REPLY,
        reason=f"The lead replied by {event.get_channel_display().lower()}.",
        where=lambda cadence: cadence.stop_on_reply,
    )


def cadences_on_opt_out(*, leads, reason: str) -> None:
    """The lead opted out (STOP, or said so): every cadence stops."""
    for lead in leads:
        enrollments_stop(lead=lead, kind=Enrollment.StopKind.OPT_OUT, reason=reason)


def cadences_on_reassign(*, lead: Lead, rep) -> None:
    enrollments_stop(
        lead=lead,
        kind=Enrollment.StopKind.REASSIGNED,
        reason=f"The lead was reassigned to {rep}.",
        where=lambda cadence: cadence.stop_on_reassign,
    )


# --- people: pause, resume, skip, stop -----------------------------------------------------------------------


def _may_change(lead: Lead, user) -> bool:
    return getattr(user, "is_api_key", False) or is_manager(user) or lead.owner_id == user.pk


def _lock_for(enrollment_id: int, user) -> Enrollment:
    enrollment = Enrollment.objects.select_for_update(of=("self",)).filter(pk=enrollment_id).first()
    if enrollment is not None:
        lead = Lead.objects.get(pk=enrollment.lead_id)
        if _may_change(lead, user):
            enrollment.lead = lead
            return enrollment
    raise EnrollmentNotFound("Enrollment not found.")


@transaction.atomic
def enrollment_start(*, lead_id: int, cadence_id: int, user) -> Enrollment:
    """A person (portal) or an integration (API) enrolls a lead in a cadence; validates both ids.

    Any active cadence may be started by hand, whatever its trigger, except appointment
    reminders (they follow a booking).
    """
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None or not _may_change(lead, user):
        raise ValidationError({"lead": f"No lead {lead_id} you may enroll."})
    cadence = Cadence.objects.filter(pk=cadence_id).first()
    if cadence is None:
        raise ValidationError({"cadence": f"No cadence {cadence_id}."})
    how = "through the API" if getattr(user, "is_api_key", False) else f"by {user}"
    return enrollment_create(cadence=cadence, lead=lead, trigger=f"enrolled {how}", user=user)


def _require_running(enrollment: Enrollment, *statuses: str) -> None:
    if enrollment.status not in statuses:
        raise ConflictError(
            f"This enrollment is {enrollment.get_status_display().lower()}.", extra={"status": enrollment.status}
        )


def _person(user):
    return None if getattr(user, "is_api_key", False) else user


def _record_person(enrollment: Enrollment, user, words: str, outcome=Decision.Outcome.OK) -> None:
    cadence = enrollment.cadence
    _note(
        cadence,
        enrollment.lead,
        actor=_person(user),
        output={"enrollment": enrollment.pk, "status": enrollment.status, "next_run_at": _iso(enrollment.next_run_at)},
        reasoning=f"{user} {words} '{cadence}'.",
        outcome=outcome,
    )


@transaction.atomic
def enrollment_pause(*, enrollment_id: int, user) -> Enrollment:
    """Hold an enrollment: no step goes until a person resumes it."""
    enrollment = _lock_for(enrollment_id, user)
    _require_running(enrollment, Enrollment.Status.ACTIVE)
    enrollment.status, enrollment.next_run_at = Enrollment.Status.PAUSED, None
    enrollment.save(update_fields=["status", "next_run_at", "updated_at"])
    _record_person(enrollment, user, "paused")
    return enrollment


@transaction.atomic
def enrollment_resume(*, enrollment_id: int, user) -> Enrollment:
    """Resume a paused enrollment: its current step is due when it would have been, or now if that has passed."""
    enrollment = _lock_for(enrollment_id, user)
    _require_running(enrollment, Enrollment.Status.PAUSED)
    rules = Rules()
    cadence, steps = rules.cadence(enrollment.cadence_id)
    enrollment.status = Enrollment.Status.ACTIVE
    _schedule(enrollment, cadence, steps, rules, timezone.now())
    enrollment.save()
    _record_person(enrollment, user, "resumed")
    return enrollment


@transaction.atomic
def enrollment_skip(*, enrollment_id: int, user) -> Enrollment:
    """Skip the enrollment's next step (recorded as skipped by the person) and schedule the one after."""
    enrollment = _lock_for(enrollment_id, user)
    _require_running(enrollment, *WAITING)
    rules = Rules()
    cadence, steps = rules.cadence(enrollment.cadence_id)
    now = timezone.now()
    if enrollment.position < len(steps):
        _run_record(enrollment, steps, StepRun.Status.SKIPPED, reason=f"skipped by {user}")
    _advance(enrollment, cadence, steps, rules, now)
    enrollment.save()
    _record_person(enrollment, user, f"skipped step {enrollment.position} of", outcome=Decision.Outcome.SKIPPED)
    return enrollment


@transaction.atomic
def enrollment_stop(*, enrollment_id: int, user, reason: str = "") -> Enrollment:
    """A person (or an integration) stops an enrollment; what it proposed and is still waiting is cancelled."""
    enrollment = _lock_for(enrollment_id, user)
    _require_running(enrollment, *WAITING)
    reason = (reason or "").strip()[:200]
    cancelled = _end(
        enrollment, kind=Enrollment.StopKind.PERSON, reason=reason or f"Stopped by {user}.", user=_person(user)
    )
    _record_person(
        enrollment,
        user,
        "stopped"
        + (f" ({reason}; {cancelled} waiting action(s) cancelled)" if cancelled else f" ({reason})" if reason else ""),
        outcome=Decision.Outcome.SKIPPED,
    )
    return enrollment


# --- the scheduler -----------------------------------------------------------------------------------------


@dataclass
class PassResult:
    proposed: int = 0
    skipped: int = 0
    moved: int = 0
    stopped: int = 0
    completed: int = 0
    failed: int = 0
    retrying: int = 0
    batches: int = 0
    action_ids: list[int] = field(default_factory=list)

    def total(self) -> int:
        return self.proposed + self.skipped + self.moved + self.stopped + self.failed + self.retrying

    def summary(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "action_ids"}


def _run_record(
    enrollment: Enrollment, steps: list[CadenceStep], status: str, *, reason: str = "", action=None
) -> StepRun:
    step = steps[enrollment.position] if enrollment.position < len(steps) else None
    return StepRun.objects.create(
        enrollment=enrollment,
        step=step,
        cycle=enrollment.cycle,
        position=enrollment.position,
        status=status,
        action=action,
        reason=reason[:300],
    )


# What moving to the next step changes (a scheduler pass writes only these).
PROGRESS_FIELDS = ["position", "attempts", "last_error", "status", "next_run_at", "ended_at", "updated_at"]


def _advance(enrollment: Enrollment, cadence: Cadence, steps: list[CadenceStep], rules: Rules, now: datetime) -> None:
    enrollment.position += 1
    enrollment.attempts, enrollment.last_error = 0, ""
    if enrollment.status == Enrollment.Status.ACTIVE:
        _schedule(enrollment, cadence, steps, rules, now)


def _replies(lead, since) -> QuerySet:
    """What the lead sent after ``since`` (values or, in a subquery, OuterRefs)."""
    return InboundEvent.objects.filter(lead=lead, received_at__gt=since)


def _replied(enrollment: Enrollment) -> bool:
    """The lead wrote or called since the enrollment started (read with the batch when the scheduler runs)."""
    if not hasattr(enrollment, "replied"):
        enrollment.replied = _replies(enrollment.lead_id, enrollment.started_at).exists()
    return enrollment.replied


def _sms_stopped(enrollment: Enrollment) -> bool:
    if not hasattr(enrollment, "sms_stopped"):
        enrollment.sms_stopped = sms_opt_outs(enrollment.lead.phone).exists()
    return enrollment.sms_stopped


def _stop_now(enrollment: Enrollment, cadence: Cadence) -> tuple[str, str] | None:
    """A stop the events should already have made, checked again: the event may have raced with this pass."""
    lead = enrollment.lead
    if lead.opted_out:
        return Enrollment.StopKind.OPT_OUT, "The lead opted out."
    if lead.stage in cadence.stop_stage_list:
        return Enrollment.StopKind.STAGE, f"The lead is {Stage(lead.stage).label}."
    if cadence.stop_on_reply and _replied(enrollment):
        return Enrollment.StopKind.REPLY, "The lead replied."
    return None


def _variables(enrollment: Enrollment, cadence: Cadence) -> dict:
    lead = enrollment.lead
    variables = {
        "first_name": lead.first_name or "there",
        "rep_name": owner_first_name(lead.owner_id) or "our team",
        "business_name": settings.BUSINESS_NAME,
        "link": cadence.link,
    }
    if enrollment.appointment_id:
        appointment = enrollment.appointment
        variables["appointment_time"] = f"{appointment.starts_at.astimezone(_tz(lead)):%A %B %-d at %-I:%M %p}"
        variables["appointment_location"] = appointment.location
    return variables


def _content(enrollment: Enrollment, cadence: Cadence, step: CadenceStep) -> DraftContent | str:
    """The step's action, or why it cannot reach anyone (a skip reason)."""
    lead = enrollment.lead
    variables = _variables(enrollment, cadence)
    if step.channel == CadenceStep.Channel.SMS:
        if not lead.phone or _sms_stopped(enrollment):
            return "the lead has no phone number we may text"
        template = step.template
        return DraftContent(
            kind=Action.Kind.SEND_SMS, to=lead.phone, body=template.render(**variables), template_id=template.pk
        )
    if step.channel == CadenceStep.Channel.EMAIL:
        if not lead.email:
            return "the lead has no email address"
        template = step.template
        return DraftContent(
            kind=Action.Kind.SEND_EMAIL,
            to=lead.email,
            body=template.render(**variables),
            subject=template.render_subject(**variables) or f"From {settings.BUSINESS_NAME}",
            template_id=template.pk,
        )
    text = render_text(step.note, variables)
    if step.channel == CadenceStep.Channel.CALL:
        owner = lead.owner
        if owner is None or not owner.email:
            return "the lead has no rep with an email address to give the call task to"
        return DraftContent(kind=Action.Kind.CALL_TASK, to=owner.email, body=text, subject=f"Call {lead}")
    return DraftContent(kind=Action.Kind.SLACK_NUDGE, to="slack", body=text)


def _step_run(enrollment: Enrollment, rules: Rules, now: datetime, result: PassResult) -> None:
    """Run the enrollment's due step (the row is locked): propose it, skip it, or move it to when it may go."""
    cadence, steps = rules.cadence(enrollment.cadence_id)
    lead = enrollment.lead
    stop = (Enrollment.StopKind.INVALID, "The cadence has no steps.") if not steps else _stop_now(enrollment, cadence)
    if stop is not None:
        _stop(enrollment, cadence, kind=stop[0], reason=stop[1], now=now)
        result.stopped += 1
        return
    if enrollment.position >= len(steps):
        _schedule(enrollment, cadence, steps, rules, now)
        enrollment.save()
        result.completed += 1
        return
    step = steps[enrollment.position]
    due = step_due(enrollment, cadence, step, rules)
    slot = step_slot(max(due, now), lead, step, rules)
    if slot > now + timedelta(minutes=1):
        # Later than planned: the cadence was edited, the appointment moved, or quiet hours changed.
        enrollment.next_run_at = slot
        enrollment.save(update_fields=["next_run_at", "updated_at"])
        result.moved += 1
        return
    skip = ""
    if enrollment.appointment_id and now >= enrollment.appointment.starts_at:
        skip = "the appointment has already begun"
    elif step.only_if_stage and lead.stage != step.only_if_stage:
        skip = f"the lead is no longer {Stage(step.only_if_stage).label}"
    elif step.only_if_no_reply and _replied(enrollment):
        skip = "the lead has replied"
    content = skip or _content(enrollment, cadence, step)
    if isinstance(content, str):
        _run_record(enrollment, steps, StepRun.Status.SKIPPED, reason=content)
        _note(
            cadence,
            lead,
            output={"enrollment": enrollment.pk, "position": enrollment.position},
            reasoning=f"'{cadence}' step {enrollment.position + 1} skipped: {content}.",
            outcome=Decision.Outcome.SKIPPED,
        )
        result.skipped += 1
    else:
        action = action_propose(
            lead=lead,
            workflow=cadence.workflow,
            content=content,
            confidence=None,
            reasoning=f"Cadence '{cadence}', step {enrollment.position + 1} of {len(steps)} "
            f"({step.when}, {step.get_channel_display().lower()}).",
            policy=rules.policy(cadence.workflow),
        )
        _run_record(enrollment, steps, StepRun.Status.PROPOSED, action=action)
        result.proposed += 1
        result.action_ids.append(action.pk)
    _advance(enrollment, cadence, steps, rules, now)
    enrollment.save(update_fields=PROGRESS_FIELDS)
    result.completed += enrollment.status == Enrollment.Status.COMPLETED


def _step_failed(enrollment: Enrollment, error: str, rules: Rules, now: datetime, result: PassResult) -> None:
    """A step raised: try again later, backing off; after the last try it is marked failed and the next step follows."""
    enrollment.refresh_from_db()
    enrollment.attempts += 1
    enrollment.last_error = error[:2000]
    cadence, steps = rules.cadence(enrollment.cadence_id)
    if enrollment.attempts < settings.CADENCE_MAX_ATTEMPTS:
        enrollment.next_run_at = now + timedelta(
            minutes=settings.CADENCE_RETRY_MINUTES * 2 ** (enrollment.attempts - 1)
        )
        enrollment.save(update_fields=["attempts", "last_error", "next_run_at", "updated_at"])
        result.retrying += 1
        logger.warning("cadence.step_retry", extra={"enrollment_id": enrollment.pk, "error": error})
        return
    _run_record(enrollment, steps, StepRun.Status.FAILED, reason=error)
    _note(
        cadence,
        enrollment.lead,
        output={"enrollment": enrollment.pk, "position": enrollment.position, "attempts": enrollment.attempts},
        reasoning=f"'{cadence}' step {enrollment.position + 1} failed {enrollment.attempts} times: {error}",
        outcome=Decision.Outcome.FAILED,
    )
    _advance(enrollment, cadence, steps, rules, now)
    enrollment.save()
    result.failed += 1
    logger.error("cadence.step_failed", extra={"enrollment_id": enrollment.pk, "error": error})


def _batch(rules: Rules, now: datetime, result: PassResult, limit: int) -> int:
    with transaction.atomic():
        # Rows another worker holds are skipped, not waited for: each due step is taken by one worker.
        # What every step checks is read with the batch: one query, not two per step.
        enrollments = list(
            Enrollment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Enrollment.Status.ACTIVE, next_run_at__lte=now)
            .select_related("lead__owner", "appointment")
            .annotate(
                replied=Exists(_replies(OuterRef("lead_id"), OuterRef("started_at"))),
                sms_stopped=Exists(sms_opt_outs(OuterRef("lead__phone"))),
            )
            .order_by("next_run_at")[:limit]
        )
        for enrollment in enrollments:
            try:
                with transaction.atomic():
                    _step_run(enrollment, rules, now, result)
            except Exception as exc:  # noqa: BLE001 - one broken step must not hold up the others in the pass
                _step_failed(enrollment, f"{exc.__class__.__name__}: {exc}", rules, now, result)
    result.batches += 1
    return len(enrollments)


def cadence_pass(*, now: datetime | None = None, batch: int | None = None, max_seconds: float = 50.0) -> PassResult:
    """Run every step due at ``now`` (oldest first) in batches, until none is left or time is up.

    Safe to run in several workers at once: each batch locks its rows with ``skip_locked``.
    """
    now = now or timezone.now()
    batch = batch or settings.CADENCE_BATCH
    rules, result = Rules(), PassResult()
    deadline = timezone.now() + timedelta(seconds=max_seconds)
    while timezone.now() < deadline and _batch(rules, now, result, batch) == batch:
        pass
    if result.total():
        logger.info("cadence.pass", extra=result.summary())
    return result


def cadence_sweep() -> dict:
    """The scheduled entry: when more than a batch is due, other workers are asked to share the pass."""
    now = timezone.now()
    due = Enrollment.objects.filter(status=Enrollment.Status.ACTIVE, next_run_at__lte=now)
    helpers = min(settings.CADENCE_PARALLEL - 1, due[: settings.CADENCE_BATCH * 4].count() // settings.CADENCE_BATCH)
    for _ in range(max(helpers, 0)):
        enqueue("routing.tasks.cadence_pass")
    return cadence_pass(now=now).summary()
