"""The cadence book (every cadence, its steps, holidays and quiet hours: one snapshot) and a step's clock.

When a step falls due (after the start, or before the appointment), the first minute its channel may
reach the lead (quiet hours on the lead's clock, business days), and the bookkeeping of moving on.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch

from approvals.models import MessageTemplate, Policy
from approvals.services import policy_for
from audit.models import Decision
from audit.services import decision_record
from config.versions import SETTINGS_KEY, Snapshot
from leads.models import Lead
from routing import quiet, timing
from routing.models import Cadence, CadenceStep, Enrollment, QuietHours, StepRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CadenceBook:
    """Every cadence with its steps (and their templates): one snapshot (holidays and windows: routing.quiet.QUIET)."""

    cadences: dict[int, tuple[Cadence, list[CadenceStep]]]


def _steps():
    return CadenceStep.objects.select_related("template").order_by("position", "id")


def _book_build() -> CadenceBook:
    cadences = Cadence.objects.prefetch_related(Prefetch("steps", queryset=_steps())).order_by("pk")
    return CadenceBook(cadences={c.pk: (c, list(c.steps.all())) for c in cadences})


# Templates are in it through the steps; the book is read several times for every lead and every send.
BOOK = Snapshot(SETTINGS_KEY, _book_build, (Cadence, CadenceStep, MessageTemplate))


class Rules:
    """What a pass reads once, however many steps it runs: cadences and their steps, policies, quiet hours, holidays.

    A pass lasts seconds; an edit made meanwhile applies from the next pass.
    """

    def __init__(self):
        self._book = BOOK.get()
        self._quiet = quiet.QUIET.get()
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
        return self._quiet.holidays

    def window(self, channel: str) -> timing.Window | None:
        # A Slack nudge reaches the team, not the lead: the lead's quiet hours do not apply.
        if channel not in QuietHours.Channel.values:
            return None
        return quiet.channel_window(channel, self._quiet)


def cadence_note(cadence: Cadence, lead: Lead, *, reasoning: str, output: dict | None = None, **extra) -> None:
    """One line on the lead's timeline about a cadence (the Decision log's ``cadence`` step)."""
    decision_record(
        step=Decision.Step.CADENCE, lead=lead, workflow=cadence.workflow, reasoning=reasoning, output=output, **extra
    )


def lead_tz(lead: Lead) -> ZoneInfo:
    """The lead's clock: the one routing.quiet reads quiet hours on, so a step's delay and its slot agree."""
    return quiet.lead_clock(lead)


def step_due(enrollment: Enrollment, cadence: Cadence, step: CadenceStep, rules: Rules) -> datetime:
    """When ``step`` falls due for ``enrollment``, before quiet hours: after the start, or before the appointment."""
    tz = lead_tz(enrollment.lead)
    if cadence.trigger == Cadence.Trigger.APPOINTMENT and enrollment.appointment_id:
        base = enrollment.appointment.starts_at
        return timing.offset(base, delay=step.delay, unit=step.delay_unit, tz=tz, holidays=rules.holidays, before=True)
    base = enrollment.started_at
    if cadence.trigger == Cadence.Trigger.NO_REPLY:
        base += timedelta(hours=cadence.trigger_hours or 0)
    return timing.offset(base, delay=step.delay, unit=step.delay_unit, tz=tz, holidays=rules.holidays)


def step_slot(moment: datetime, lead: Lead, step: CadenceStep, rules: Rules) -> datetime:
    """The first instant at or after ``moment`` the step's channel may reach ``lead`` (quiet hours, business days).

    SMS and call steps: the stricter of the channel's window and the law's rule for the lead's state, on the lead's
    clock (routing.quiet). Email keeps the channel's window only: the state laws are about calls and texts.
    """
    business_days_only = step.delay_unit == CadenceStep.Unit.BUSINESS_DAYS
    window = rules.window(step.channel)
    if step.channel in quiet.LAW_CHANNELS:
        return quiet.quiet_slot(
            moment, lead, window=window, holidays=rules.holidays, business_days_only=business_days_only
        )
    return timing.next_allowed(
        moment, tz=lead_tz(lead), window=window, holidays=rules.holidays, business_days_only=business_days_only
    )


def step_schedule(
    enrollment: Enrollment, cadence: Cadence, steps: list[CadenceStep], rules: Rules, now: datetime
) -> None:
    """Set ``next_run_at`` for the enrollment's current step, or complete it when no step is left."""
    if enrollment.position >= len(steps):
        enrollment.status, enrollment.next_run_at, enrollment.ended_at = Enrollment.Status.COMPLETED, None, now
        return
    step = steps[enrollment.position]
    enrollment.next_run_at = step_slot(
        max(step_due(enrollment, cadence, step, rules), now), enrollment.lead, step, rules
    )


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def local_text(moment: datetime, lead: Lead) -> str:
    return f"{moment.astimezone(lead_tz(lead)):%a %b %d %H:%M} ({lead.timezone or settings.TIME_ZONE})"


def position_first_ahead(
    enrollment: Enrollment, cadence: Cadence, steps: list[CadenceStep], rules: Rules, now: datetime
) -> None:
    """Reminders start at the first step still ahead of the appointment (booked for tomorrow: no '1 week before')."""
    if cadence.trigger != Cadence.Trigger.APPOINTMENT:
        return
    while enrollment.position < len(steps) and step_due(enrollment, cadence, steps[enrollment.position], rules) < now:
        enrollment.position += 1


def step_run_record(
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


def step_advance(
    enrollment: Enrollment, cadence: Cadence, steps: list[CadenceStep], rules: Rules, now: datetime
) -> None:
    enrollment.position += 1
    enrollment.attempts, enrollment.last_error = 0, ""
    if enrollment.status == Enrollment.Status.ACTIVE:
        step_schedule(enrollment, cadence, steps, rules, now)
