"""Free times for a booking type: every input gathered once, then judged by :mod:`routing.booking.slots`.

Inputs: the reps (the routing snapshot: hours, absences, holidays, zones; no query), their booked meetings in the
window (one query), and their connected calendars' busy blocks (read at once, in threads, each within
CALENDAR_TIMEOUT_SECONDS; reused for CALENDAR_BUSY_CACHE_SECONDS when offering, read afresh at a commit). A
calendar that is down or slow leaves the times computed from our own data, and says so in ``notes``.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from integrations.calendars import CalendarError, account_for, busy_read, connection_outcome
from integrations.models import CalendarConnection
from leads.conditions import compile_conditions
from leads.models import Appointment, Lead
from routing.assign import RepInfo
from routing.booking.slots import Busy, Rule, Slot, slot_refusal, team_free_times
from routing.directory import routing_config
from routing.models import BookingType
from routing.services import lead_facts

logger = logging.getLogger(__name__)

# Busy blocks per connection: (monotonic time read, window, blocks). Per process; a commit never reads it.
_busy_cache: dict[int, tuple[float, tuple[datetime, datetime], list[Busy]]] = {}
_busy_lock = threading.Lock()
FAIRNESS_DAYS = 30


def booking_rule(booking_type: BookingType) -> Rule:
    """The booking type as the pure judge reads it."""
    return Rule(
        duration=timedelta(minutes=booking_type.duration_minutes),
        before=timedelta(minutes=booking_type.buffer_before_minutes),
        after=timedelta(minutes=booking_type.buffer_after_minutes),
        notice=timedelta(minutes=booking_type.min_notice_minutes),
        horizon=timedelta(days=booking_type.horizon_days),
        step=timedelta(minutes=booking_type.step_minutes),
    )


def booking_type_for(lead: Lead, facts=None) -> BookingType | None:
    """The first active booking type, by priority, whose conditions hold for ``lead`` (None: none fits)."""
    facts = facts or lead_facts(lead, lead.qualification or {}, None)
    for booking_type in BookingType.objects.filter(active=True):
        try:
            if compile_conditions(booking_type.conditions).holds(facts):
                return booking_type
        except ValueError:
            continue  # the admin refuses such conditions; a type that cannot be read is never offered
    return None


def booking_reps(booking_type: BookingType, lead: Lead | None) -> list[RepInfo]:
    """Who may host a meeting of ``booking_type`` for ``lead``: the owner alone, or the type's reps, in id order.

    The type's reps are those named and every rep of the teams named; nobody named means every rep who takes
    leads. Reps who cannot log in or are switched off are left out (routing.assign.RepInfo.takes_leads).
    """
    config = routing_config()
    directory = config.directory
    if booking_type.team_mode == BookingType.TeamMode.OWNER:
        rep_id = config.rep_by_user.get(lead.owner_id) if lead is not None and lead.owner_id else None
        rep = directory.reps.get(rep_id) if rep_id is not None else None
        return [rep] if rep is not None and rep.takes_leads else []
    named = set(booking_type.reps.values_list("pk", flat=True))
    for team_id in booking_type.teams.values_list("pk", flat=True):
        named |= {r.id for r in directory.team_reps(team_id)}
    ids = named or set(directory.reps)
    return [directory.reps[i] for i in sorted(ids) if i in directory.reps and directory.reps[i].takes_leads]


def meetings_busy(
    reps: list[RepInfo], lo: datetime, hi: datetime, *, exclude: int | None = None
) -> dict[int, list[Busy]]:
    """Each rep's booked meetings that may touch [lo, hi] (buffers included), by rep id; one query. ``exclude``: a
    meeting being moved, which holds no time against itself."""
    by_user = {rep.user_id: rep.id for rep in reps}
    found: dict[int, list[Busy]] = {rep.id: [] for rep in reps}
    # A meeting starting up to a day before lo may still run (or hold its buffer) into it.
    rows = Appointment.objects.filter(
        host_id__in=by_user, status=Appointment.Status.BOOKED, starts_at__gte=lo - timedelta(days=1), starts_at__lt=hi
    )
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    rows = rows.values_list("host_id", "starts_at", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes")
    for host_id, starts_at, minutes, before, after in rows:
        found[by_user[host_id]].append(
            Busy(starts_at, starts_at + timedelta(minutes=minutes), timedelta(minutes=before), timedelta(minutes=after))
        )
    return found


def external_busy(
    reps: list[RepInfo], lo: datetime, hi: datetime, *, fresh: bool = False
) -> tuple[dict[int, list[Busy]], list[str]]:
    """Busy blocks of the reps' connected calendars, by rep id, and a note for each calendar that could not be read.

    Calendars are read at once, each within CALENDAR_TIMEOUT_SECONDS. ``fresh`` skips the per-process cache.
    """
    by_user = {rep.user_id: rep for rep in reps}
    connections = list(CalendarConnection.objects.filter(user_id__in=by_user, active=True).select_related("user"))
    found: dict[int, list[Busy]] = {}
    notes: list[str] = []
    if not connections:
        return found, notes
    # Read a little wider than asked, on whole hours, so the next offer a minute later finds it in the cache.
    wide = (
        lo.replace(minute=0, second=0, microsecond=0),
        hi.replace(minute=0, second=0, microsecond=0) + timedelta(days=1),
    )

    def read(connection: CalendarConnection):
        if not fresh:
            with _busy_lock:
                cached = _busy_cache.get(connection.pk)
            fits = cached and cached[1][0] <= lo and hi <= cached[1][1]
            if fits and time.monotonic() - cached[0] < settings.CALENDAR_BUSY_CACHE_SECONDS:
                return connection, cached[2], None
        try:
            account = account_for(connection, zone=by_user[connection.user_id].timezone)
            blocks = [Busy(a, b) for a, b in busy_read(account, *wide)]
        except CalendarError as exc:
            return connection, None, exc
        with _busy_lock:
            _busy_cache[connection.pk] = (time.monotonic(), wide, blocks)
        return connection, blocks, None

    with ThreadPoolExecutor(max_workers=min(8, len(connections))) as pool:
        results = list(pool.map(read, connections))
    for connection, blocks, error in results:
        rep = by_user[connection.user_id]
        if error is None:
            found[rep.id] = blocks
            continue
        notes.append(f"{rep.name}'s calendar could not be read ({error.reason}): times from Nightshift's data alone")
        logger.warning(
            "calendar.busy_unreadable",
            extra={"connection_id": connection.pk, "reason": error.reason, "error": str(error)},
        )
        connection_outcome(connection.pk, str(error))
    return found, notes


@dataclass
class Availability:
    """Open starts (with who is free at each), the reps asked, and what could not be read (in words)."""

    slots: list[Slot]
    reps: dict[int, RepInfo]
    notes: list[str] = field(default_factory=list)


def availability(
    booking_type: BookingType,
    lead: Lead | None,
    *,
    now: datetime | None = None,
    window: tuple[datetime, datetime] | None = None,
    limit: int | None = None,
    fresh: bool = False,
) -> Availability:
    """The open starts (UTC) of ``booking_type`` for ``lead``: at most ``limit``, inside ``window`` if given."""
    now = now or timezone.now()
    rule = booking_rule(booking_type)
    reps = booking_reps(booking_type, lead)
    if not reps:
        return Availability([], {}, ["nobody can host it (no rep of the booking type takes leads)"])
    lo, hi = now, now + rule.horizon + rule.duration
    local = meetings_busy(reps, lo, hi)
    external, notes = external_busy(reps, lo, hi, fresh=fresh)
    judged = [(rep, local[rep.id] + external.get(rep.id, [])) for rep in reps]
    slots = team_free_times(judged, rule, now, window=window, limit=limit)
    return Availability(slots, {rep.id: rep for rep in reps}, notes)


def host_order(booking_type: BookingType, lead: Lead | None, rep_ids, now: datetime) -> list[int]:
    """The reps among ``rep_ids`` in the order to give them a meeting: the owner alone in owner mode; else fewest
    booked meetings (from FAIRNESS_DAYS back to the horizon) first, then by id."""
    reps = {rep.id: rep for rep in booking_reps(booking_type, lead) if rep.id in set(rep_ids)}
    if booking_type.team_mode == BookingType.TeamMode.OWNER or len(reps) < 2:
        return sorted(reps)
    users = {rep.user_id: rep.id for rep in reps.values()}
    since, until = now - timedelta(days=FAIRNESS_DAYS), now + timedelta(days=booking_type.horizon_days)
    counts = dict(
        Appointment.objects.filter(host_id__in=users, status=Appointment.Status.BOOKED)
        .filter(Q(starts_at__gte=since) & Q(starts_at__lt=until))
        .values("host_id")
        .annotate(n=Count("id"))
        .values_list("host_id", "n")
    )
    return sorted(reps, key=lambda rep_id: (counts.get(reps[rep_id].user_id, 0), rep_id))


def refusal(rep: RepInfo, busy: list[Busy], booking_type: BookingType, start: datetime, now: datetime) -> str:
    """Why ``rep`` cannot host ``booking_type`` at ``start`` ("" when they can)."""
    return slot_refusal(rep, busy, booking_rule(booking_type), start, now)
