"""The demo business's history: ``DAYS`` of leads on its clock, the first third before automation, written in bulk.

Before automation every first answer waited for a rep (hours, often the next morning), missed calls were only
watched and nothing followed a quote up. From then on answers and missed-call text-backs go in seconds, cadences
follow up, and reps approve, edit and reject their drafts: appointment reminders earn graduation, follow-ups don't.
"""

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from approvals.models import Action, Policy, Workflow
from audit.models import Decision, ReportSettings
from audit.periods import Period, business_tz
from leads.models import Lead
from routing.demo.clock import Clock
from routing.demo.journey import FIRST_MIN_CONFIDENCE, Story
from routing.demo.rows import MARK, Rows, history_clear
from routing.directory import routing_config
from routing.timing import local_at

SEED = "nightshift-demo"
MAX_DAYS = 730
# What the manager switched on when automation began: workflow -> {setting: (before, after)}.
AUTOMATION = {
    Workflow.FIRST_RESPONSE: {"mode": ("draft", "auto"), "min_confidence": (0.7, FIRST_MIN_CONFIDENCE)},
    Workflow.CLARIFYING_QUESTION: {"mode": ("draft", "auto"), "min_confidence": (0.7, FIRST_MIN_CONFIDENCE)},
    Workflow.MISSED_CALL: {"mode": ("observe", "auto")},
}
WHY = "the business switched automation on"
# How far back the history leaves what waits for a person undecided, widened until at least MIN_WAITING actions wait:
# the visitor plays the rep on duty, and an office-hours demo whose queue the story emptied has nothing to approve.
UNATTENDED = (timedelta(hours=3), timedelta(hours=12), timedelta(days=2))
MIN_WAITING = 3
BASELINE_NOTE = "Before automation: every answer waited for a rep (demo history)"


@dataclass
class HistorySummary:
    """What a run wrote: its days, baseline, rows by kind, and the seconds it took."""

    days: int
    baseline: Period
    automation: datetime
    counts: Counter = field(default_factory=Counter)
    replaced: int = 0
    seconds: float = 0.0


@transaction.atomic
def history_seed(*, days: int, now: datetime | None = None) -> HistorySummary:
    """Replace the demo history with ``days`` days ending now (the hour, on the business's clock).

    The same ``days`` in the same hour give the same rows (a fixed seed); an earlier run's rows are deleted first.
    Raises ValueError for fewer than 3 days or more than MAX_DAYS, an end in the future, or without the demo's
    manager and reps.
    """
    if not 3 <= days <= MAX_DAYS:
        raise ValueError(f"history: give 3 to {MAX_DAYS} days, not {days}.")
    if now is not None and now > timezone.now():
        raise ValueError("history: it must end in the past (--until), not in the future.")
    started = time.perf_counter()
    User = get_user_model()
    manager = User.objects.filter(username="manager").first()
    config = routing_config()
    if manager is None or not config.directory.reps:
        raise ValueError("history: seed the demo's people first (manager and reps).")
    tz = business_tz()
    now = (now or timezone.now()).astimezone(tz).replace(minute=0, second=0, microsecond=0)
    replaced = history_clear()
    first_day = now.date() - timedelta(days=days - 1)
    automation_day = first_day + timedelta(days=max(1, days // 3))
    automation = local_at(automation_day, clock_time(0), tz)
    users = dict(User.objects.values_list("pk", "username"))
    emails = dict(User.objects.exclude(email="").values_list("pk", "email"))
    taken = set(Lead.objects.exclude(phone="").values_list("phone", flat=True))
    taken |= set(Lead.objects.exclude(email="").values_list("email", flat=True))
    for unattended in UNATTENDED:
        rows = Rows()
        story = Story(
            clock=Clock(tz, random.Random(f"{SEED}-{days}")),
            rows=rows,
            now=now,
            config=config,
            users=users,
            emails=emails,
            taken=set(taken),
            unattended=unattended,
        )
        number = 0
        for offset in range(days):
            for arrived in story.clock.arrivals(first_day + timedelta(days=offset)):
                number += 1
                if arrived < now:
                    story.lead(number, arrived, baseline=arrived < automation)
        if sum(action.status == Action.Status.PENDING for action in rows.rows[Action]) >= MIN_WAITING:
            break
    story.edits_apply()
    _automation_logged(rows, manager, automation)
    rows.lead_history.sort(key=lambda entry: entry[1])
    rows.write()
    _policies_automate(manager, automation)
    baseline = Period.dates(first_day, automation_day - timedelta(days=1))
    _baseline_set(manager, first_day, automation_day - timedelta(days=1))
    return HistorySummary(
        days=days,
        baseline=baseline,
        automation=automation,
        counts=rows.counts(),
        replaced=replaced,
        seconds=time.perf_counter() - started,
    )


def _automation_logged(rows: Rows, manager, when: datetime) -> None:
    """The manager's policy changes as ``policy_update`` logs them, marked so a later run can replace them."""
    for workflow, changes in AUTOMATION.items():
        words = ", ".join(f"{name.replace('_', ' ')} {old} → {new}" for name, (old, new) in changes.items())
        rows.decision(
            when,
            step=Decision.Step.POLICY,
            workflow=workflow,
            actor_id=manager.pk,
            actor_type=Decision.ActorType.PERSON,
            output={"changed": {name: list(pair) for name, pair in changes.items()}, "seeded": MARK},
            reasoning=f"{manager}: {workflow.replace('_', ' ')} {words} ({WHY})",
        )


def _policies_automate(manager, when: datetime) -> None:
    """The policies as automation left them, saved as the admin saves them (in history, at that moment)."""
    for workflow, changes in AUTOMATION.items():
        policy = Policy.objects.filter(workflow=workflow).first() or Policy(workflow=workflow)
        after = {name: new for name, (_, new) in changes.items()}
        if all(getattr(policy, name) == value for name, value in after.items()):
            continue
        for name, value in after.items():
            setattr(policy, name, value)
        policy._history_user, policy._history_date, policy._change_reason = manager, when, WHY
        policy.full_clean()
        policy.save()


def _baseline_set(manager, first: date, last: date) -> None:
    settings_row = ReportSettings.load()
    if (settings_row.baseline_start, settings_row.baseline_end, settings_row.baseline_note) == (
        first,
        last,
        BASELINE_NOTE,
    ):
        return
    settings_row.baseline_start, settings_row.baseline_end, settings_row.baseline_note = first, last, BASELINE_NOTE
    settings_row._history_user = manager
    settings_row.full_clean()
    settings_row.save()
