"""Free times: a rep's working time less what holds it, cut into the starts a booking type may take. Pure.

A rep's working time is :func:`routing.availability.work_spans` (their shifts less Holidays and Absences, on
their clock, in UTC so a DST change is counted as the hours it really has). What holds it: their booked
meetings (each with its own buffers) and their external calendar's busy blocks. A start ``s`` fits when the
meeting ``[s, s + duration]`` lies inside one stretch of working time, starts at least ``notice`` from now and
before the horizon, and keeps clear of every busy block widened by the buffers: the new meeting's buffers
must not touch another meeting, nor another meeting's buffers touch the new one (Calendly's rule), so a
block ``[a, b]`` forbids starts in ``(a - max(after, its before) - duration, b + max(before, its after))``.

Starts fall on the rep's clock every ``step`` minutes (10:00, 10:30…), counted from local midnight.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from heapq import merge as sorted_merge

from routing.assign import RepInfo
from routing.availability import work_spans


@dataclass(frozen=True)
class Rule:
    """What a booking type asks of a time (routing.models.BookingType.rule()); all durations."""

    duration: timedelta
    before: timedelta = timedelta(0)
    after: timedelta = timedelta(0)
    notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=14)
    step: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Busy:
    """Time that is not free: a meeting (with the buffers it holds around it) or an external busy block (UTC)."""

    start: datetime
    end: datetime
    before: timedelta = timedelta(0)
    after: timedelta = timedelta(0)


SPREAD = timedelta(hours=3)


@dataclass(frozen=True)
class Slot:
    """A start open with at least one rep: ``rep_ids`` are those free then, in id order."""

    start: datetime
    rep_ids: tuple[int, ...]


def _blocks(busy: Iterable[Busy], rule: Rule) -> list[tuple[datetime, datetime]]:
    """Busy blocks widened by the buffers, as starts-forbidding spans for the meeting itself, merged and sorted."""
    widened = sorted(
        (b.start - max(rule.after, b.before), b.end + max(rule.before, b.after)) for b in busy if b.end > b.start
    )
    merged: list[tuple[datetime, datetime]] = []
    for start, end in widened:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _align(moment: datetime, rep: RepInfo, step: timedelta) -> datetime:
    """The first start at or after ``moment`` on the rep's clock's ``step`` grid (from local midnight)."""
    local = moment.astimezone(rep.zone())
    into = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
    rest = into % step
    return moment if not rest else moment + (step - rest)


def _working(rep: RepInfo, start: datetime, until: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The rep's working time from ``start`` to about ``until``, touching stretches joined (9-12 and 12-17 are one)."""
    current = None
    for opens, closes in work_spans(rep, start):
        if opens > until:
            break
        if current is not None and opens <= current[1]:
            current = (current[0], max(current[1], closes))
            continue
        if current is not None:
            yield current
        current = (opens, closes)
    if current is not None:
        yield current


def _free_pieces(rep: RepInfo, blocks: list[tuple[datetime, datetime]], lo: datetime, hi: datetime):
    """Working time between ``lo`` and ``hi`` less ``blocks``, in order (UTC spans)."""
    j = 0
    for opens, closes in _working(rep, lo, hi):
        if opens >= hi:
            return
        start = opens
        while j < len(blocks) and blocks[j][1] <= start:
            j += 1
        k = j
        while start < closes:
            if k < len(blocks) and blocks[k][0] < closes:
                if blocks[k][0] > start:
                    yield start, blocks[k][0]
                start = max(start, blocks[k][1])
                k += 1
            else:
                yield start, closes
                break


def rep_free_times(
    rep: RepInfo,
    busy: Iterable[Busy],
    rule: Rule,
    now: datetime,
    *,
    window: tuple[datetime, datetime] | None = None,
    limit: int | None = None,
) -> list[datetime]:
    """Starts (UTC, in order) at which ``rep`` can take a meeting of ``rule``; at most ``limit`` of them.

    ``window`` narrows the search to starts inside it (a day the lead named, "tomorrow morning").
    """
    now = now.astimezone(UTC)
    lo, hi = now + rule.notice, now + rule.horizon
    if window is not None:
        lo, hi = max(lo, window[0].astimezone(UTC)), min(hi, window[1].astimezone(UTC))
    starts: list[datetime] = []
    if lo >= hi:
        return starts
    blocks = _blocks(busy, rule)
    for a, b in _free_pieces(rep, blocks, lo, hi + rule.duration):
        s = _align(max(a, lo), rep, rule.step)
        while s + rule.duration <= b and s < hi:
            starts.append(s)
            if limit is not None and len(starts) >= limit:
                return starts
            s += rule.step
    return starts


def team_free_times(
    reps: Iterable[tuple[RepInfo, Iterable[Busy]]],
    rule: Rule,
    now: datetime,
    *,
    window: tuple[datetime, datetime] | None = None,
    limit: int | None = None,
) -> list[Slot]:
    """Starts at which at least one of ``reps`` (each with what holds their time) is free, with who is free then."""
    per_rep = [
        [(s, rep.id) for s in rep_free_times(rep, busy, rule, now, window=window, limit=limit)] for rep, busy in reps
    ]
    slots: list[Slot] = []
    for start, rep_id in sorted_merge(*per_rep):
        if slots and slots[-1].start == start:
            slots[-1] = Slot(start, (*slots[-1].rep_ids, rep_id))
        elif limit is not None and len(slots) >= limit:
            break
        else:
            slots.append(Slot(start, (rep_id,)))
    return [Slot(s.start, tuple(sorted(s.rep_ids))) for s in slots]


def slot_refusal(rep: RepInfo, busy: Iterable[Busy], rule: Rule, start: datetime, now: datetime) -> str:
    """Why ``rep`` cannot take a meeting of ``rule`` at ``start`` ("" when they can), in words a person reads.

    The check made again at commit: in the past, inside the minimum notice, past the horizon, off the ``step``
    grid the offered times are cut on (15:07, 15:00:01), outside working time (a shift, an absence, a holiday), or
    held by a meeting or an external busy block (with the buffers).
    """
    start, now = start.astimezone(UTC), now.astimezone(UTC)
    end = start + rule.duration
    if start <= now:
        return "that time has passed"
    if start < now + rule.notice:
        return f"it is less than {_words(rule.notice)} away (the minimum notice)"
    if start >= now + rule.horizon:
        return f"it is more than {_words(rule.horizon)} ahead"
    if _align(start, rep, rule.step) != start:
        return f"it is not on the {_words(rule.step)} grid of start times (from midnight on the rep's clock)"
    if not any(opens <= start and end <= closes for opens, closes in _spans_until(rep, start, end)):
        return "it is outside working hours"
    for a, b in _blocks(busy, rule):
        if a < end and start < b:
            return "that time is taken"
    return ""


def _spans_until(rep: RepInfo, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    for opens, closes in _working(rep, start - timedelta(days=1), end):
        if opens >= end:
            return
        yield opens, closes


def _words(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 1440 == 0 and minutes >= 1440:
        return f"{minutes // 1440} day{'s' if minutes > 1440 else ''}"
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60} hour{'s' if minutes > 60 else ''}"
    return f"{minutes} minutes"


def spread(slots: list[Slot], count: int) -> list[Slot]:
    """Up to ``count`` of ``slots`` at least three hours apart (a morning, an afternoon, the next day), in order."""
    chosen: list[Slot] = []
    for slot in slots:
        if all(abs(slot.start - c.start) >= SPREAD for c in chosen):
            chosen.append(slot)
        if len(chosen) == count:
            break
    return chosen
