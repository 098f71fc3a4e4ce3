#!/usr/bin/env python
"""Booking on PostgreSQL: free times for a team of 20 reps, and many leads picking the same times at once.

Seeds 20 reps (weekdays 9-17, Chicago) with 2,000 booked meetings each (over the past year and the next 60 days)
and a Google calendar each, served by a local freeBusy server with 40 busy blocks a rep. Then:

1. free times: ``routing.booking.free.availability`` for the team's round-robin type (14 days ahead), p50/p95 over
   ``--runs``: warm (calendars' busy times reused for CALENDAR_BUSY_CACHE_SECONDS, as offering does) and cold
   (every calendar asked again, as a commit does); and the pure judge alone over the same inputs.
2. picks: ``--picks`` commits of ``--times`` different times, ``--threads`` at once (each its own connection;
   PostgreSQL allows 100), every pick on a fresh lead; prints bookings made and double bookings (target 0).

    .venv/bin/python bench/booking.py [--runs 40] [--picks 200] [--times 50] [--threads 40]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench_booking).
"""

import argparse
import os
import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import database_migrate, django_setup, nearest_rank  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nightshift_bench_booking")
REPS, MEETINGS, BUSY = 20, 2000, 40


def seed(rng: random.Random, calendar_url: str):
    from datetime import time as clock

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from integrations.models import CalendarConnection
    from leads.models import Appointment, Lead
    from routing.directory import config_changed
    from routing.models import BookingType, Rep, Team, WorkingHours

    call_command("seed_demo", "--force", verbosity=0)
    team = Team.objects.create(name="Bench estimators")
    owner = Lead.objects.create(name="Earlier customers", timezone="America/Chicago")
    now = timezone.now()
    for i in range(REPS):
        user = get_user_model().objects.create_user(f"bench{i}", password="x", first_name=f"Bench{i}")
        rep = Rep.objects.create(user=user, team=team, timezone="America/Chicago")
        WorkingHours.objects.bulk_create(
            WorkingHours(rep=rep, weekday=d, start=clock(9), end=clock(17)) for d in range(5)
        )
        CalendarConnection.objects.create(
            user=user, kind="google", url=calendar_url, credential_ref="env:BENCH_TOKEN", calendar_id=f"bench{i}"
        )
        Appointment.objects.bulk_create(
            Appointment(
                lead=owner,
                host=user,
                starts_at=now + timedelta(minutes=30 * rng.randrange(-17_500, 2_900)),
                duration_minutes=rng.choice((30, 60)),
                buffer_after_minutes=rng.choice((0, 15)),
            )
            for _ in range(MEETINGS)
        )
    booking_type = BookingType.objects.create(
        name="Estimate", slug="estimate", duration_minutes=60, buffer_before_minutes=15, min_notice_minutes=60
    )
    booking_type.teams.add(team)
    config_changed()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return booking_type


def busy_server(rng: random.Random):
    """A freeBusy server (Google's documented shape) with BUSY blocks per calendar over the next two weeks."""
    from tests.fakes.http_server import LocalJsonServer

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    blocks = {
        f"bench{i}": [
            {
                "start": (s := start + timedelta(hours=rng.randrange(0, 24 * 14))).isoformat(),
                "end": (s + timedelta(hours=1)).isoformat(),
            }
            for _ in range(BUSY)
        ]
        for i in range(REPS)
    }

    def respond(method, path, headers, body):
        calendar = body["items"][0]["id"]
        return 200, {"kind": "calendar#freeBusy", "calendars": {calendar: {"busy": blocks[calendar]}}}

    return LocalJsonServer(respond)


def timed(call, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return nearest_rank(samples, 0.5), nearest_rank(samples, 0.95)


def free_times(booking_type, runs: int) -> None:
    from django.utils import timezone

    from routing.booking.free import availability, booking_reps, booking_rule, external_busy, meetings_busy
    from routing.booking.slots import team_free_times

    found = availability(booking_type, None, fresh=True)
    print(f"free times: {len(found.slots)} open starts in 14 days for {REPS} reps; notes: {found.notes or 'none'}")
    warm = timed(lambda: availability(booking_type, None), runs)
    cold = timed(lambda: availability(booking_type, None, fresh=True), max(5, runs // 4))
    now = timezone.now()
    reps = booking_reps(booking_type, None)
    rule = booking_rule(booking_type)
    local = meetings_busy(reps, now, now + rule.horizon + rule.duration)
    external, _ = external_busy(reps, now, now + rule.horizon + rule.duration)
    print(
        f"  meetings in the window: {sum(len(v) for v in local.values())}, "
        f"external blocks: {sum(len(v) for v in external.values())}"
    )
    inputs = [(rep, local[rep.id] + external.get(rep.id, [])) for rep in reps]
    judge = timed(lambda: team_free_times(inputs, rule, now), runs)
    print(f"  warm (calendars cached):   p50 {warm[0]:.1f} ms  p95 {warm[1]:.1f} ms  (target p95 <= 50 ms)")
    print(f"  cold (every calendar asked): p50 {cold[0]:.1f} ms  p95 {cold[1]:.1f} ms")
    print(f"  the pure judge alone:      p50 {judge[0]:.1f} ms  p95 {judge[1]:.1f} ms")


def picks(booking_type, total: int, distinct: int, threads: int) -> None:
    from django.db import connection

    from leads.models import Appointment, Lead
    from routing.booking.commit import SlotTaken, booking_commit
    from routing.booking.free import availability

    slots = availability(booking_type, None, fresh=True).slots[:distinct]
    leads = Lead.objects.bulk_create(
        Lead(name=f"Picker {i}", phone=f"+1737{i:07d}", timezone="America/Chicago") for i in range(total)
    )
    before = Appointment.objects.filter(status="booked").count()
    outcomes: list[str] = []
    lock = threading.Lock()
    work = list(range(total))
    barrier = threading.Barrier(threads)

    def worker():
        barrier.wait()
        while True:
            with lock:
                if not work:
                    break
                i = work.pop()
            try:
                booking_commit(
                    lead_id=leads[i].pk,
                    booking_type_id=booking_type.pk,
                    start=slots[i % len(slots)].start,
                    source="bench",
                )
                result = "booked"
            except SlotTaken:
                result = "taken"
            with lock:
                outcomes.append(result)
        connection.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - started
    # A double booking: a meeting made here that overlaps any other booked meeting of its host (the seeded
    # history overlaps itself at random and is not counted against itself).
    made_here = list(
        Appointment.objects.filter(status="booked", lead__in=leads).values_list(
            "pk", "host_id", "starts_at", "duration_minutes"
        )
    )
    doubles = 0
    for pk, host, start, minutes in made_here:
        end = start + timedelta(minutes=minutes)
        others = Appointment.objects.filter(host_id=host, status="booked", starts_at__lt=end).exclude(pk=pk)
        doubles += sum(
            1
            for s, d in others.filter(starts_at__gte=start - timedelta(hours=10)).values_list(
                "starts_at", "duration_minutes"
            )
            if s + timedelta(minutes=d) > start
        )
    made = Appointment.objects.filter(status="booked").count() - before
    print(
        f"picks: {total} picks of {len(slots)} times, {threads} at once, in {seconds:.1f} s: "
        f"{outcomes.count('booked')} booked ({made} meetings made), {outcomes.count('taken')} refused with new times; "
        f"double bookings: {doubles}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--picks", type=int, default=200)
    parser.add_argument("--times", type=int, default=50)
    parser.add_argument("--threads", type=int, default=40)
    args = parser.parse_args()
    os.environ["BENCH_TOKEN"] = "bench-token"
    os.environ.setdefault("CALENDAR_BUSY_CACHE_SECONDS", "600")
    rng = random.Random(25)
    database_migrate(DB_URL)
    django_setup(DB_URL)
    with busy_server(rng) as server:
        booking_type = seed(rng, server.url)
        free_times(booking_type, args.runs)
        picks(booking_type, args.picks, args.times, args.threads)


if __name__ == "__main__":
    main()
