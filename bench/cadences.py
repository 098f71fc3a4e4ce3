#!/usr/bin/env python
"""One cadence scheduler pass over 5,000 due steps among 100,000 active enrollments, in PostgreSQL.

Seeds the demo, a three-step SMS cadence and 100,000 leads, each enrolled once: 5,000 with their
first step due now, the rest due over the next 30 days. Runs ANALYZE (as autovacuum would), then
times ``routing.cadences.cadence_pass`` picking and proposing every due step, in 1 and in 2
worker processes at once (each batch locks its rows with ``skip_locked``), and checks that no
step was proposed twice. Between runs the proposals are deleted and the enrollments put back.
Also times a pass with nothing due, and prints the plan of the pick query: the cost follows the
due steps, not all enrollments. Target: a pass over 5,000 due steps under 30 s on 2 cores.

    .venv/bin/python bench/cadences.py [--enrollments 100000] [--due 5000] [--workers 1,2] [--policy draft|auto]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench_cadences).
"""

import argparse
import multiprocessing
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import database_migrate, django_setup  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nightshift_bench_cadences")
# Quiet hours that never close: the figures are the scheduler's, whatever the hour the bench runs at.
os.environ.setdefault("CADENCE_QUIET_HOURS", "00:00-23:59:59.999999")


def seed(total: int, due: int, policy: str, rng: random.Random) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from approvals.models import MessageTemplate
    from approvals.services import policy_update
    from leads.models import Lead
    from routing.models import Cadence, CadenceStep, Enrollment

    call_command("seed_demo", "--force", verbosity=0)
    # As a manager turns the dial: every process's policy snapshot hears the save.
    manager = get_user_model().objects.get(username="manager")
    policy_update(workflow="follow_up", user=manager, mode=policy)
    template = MessageTemplate.objects.get(name="Quote check-in (SMS)")
    cadence = Cadence.objects.create(name="Bench follow-up", trigger=Cadence.Trigger.MANUAL)
    for position, hours in enumerate((0, 24, 72)):
        CadenceStep.objects.create(cadence=cadence, position=position, delay=hours, template=template)
    now = timezone.now()
    batch = 10_000
    for start in range(0, total, batch):
        leads = Lead.objects.bulk_create(
            Lead(name=f"Lead {i}", phone=f"+1512{i:07d}", stage="quoted", timezone="America/Chicago")
            for i in range(start, min(start + batch, total))
        )
        Enrollment.objects.bulk_create(
            Enrollment(
                cadence=cadence,
                lead=lead,
                started_at=now - timedelta(hours=1),
                trigger="bench",
                next_run_at=now - timedelta(minutes=rng.randint(0, 59))
                if i < due
                else now + timedelta(minutes=rng.randint(60, 30 * 24 * 60)),
            )
            for i, lead in enumerate(leads, start=start)
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def reset(due_ids: list[int], due_times: dict[int, object]) -> None:
    """Put the due enrollments back where they were and remove what the last run proposed."""
    from django.db import connection, transaction

    from approvals.models import Action
    from audit.models import Decision
    from routing.models import Enrollment, StepRun

    with transaction.atomic():
        StepRun.objects.all().delete()
        Decision.objects.all().delete()
        Action.history.all().delete()
        Action.objects.all().delete()
        Enrollment.objects.filter(pk__in=due_ids).update(status="active", position=0, attempts=0, ended_at=None)
        for pk, moment in due_times.items():
            Enrollment.objects.filter(pk=pk).update(next_run_at=moment)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM django_q_ormq")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE routing_enrollment")


def worker(now, queue) -> None:
    from django.db import connection

    from routing.cadences import cadence_pass

    connection.close()  # a fresh connection per process
    result = cadence_pass(now=now, max_seconds=600)
    queue.put((result.summary(), result.action_ids))


def timed_pass(workers: int, now) -> tuple[float, list[dict], list[int]]:
    from django.db import connection

    connection.close()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=worker, args=(now, queue)) for _ in range(workers)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    return elapsed, [summary for summary, _ in results], [pk for _, ids in results for pk in ids]


def check(due: int, action_ids: list[int]) -> str:
    from django.db.models import Count

    from approvals.models import Action
    from routing.models import StepRun

    runs = StepRun.objects.count()
    twice = StepRun.objects.values("enrollment_id").annotate(n=Count("id")).filter(n__gt=1).count()
    actions = Action.objects.count()
    assert len(action_ids) == len(set(action_ids)), "an action id came back from two workers"
    ok = runs == actions == len(action_ids) == due and twice == 0
    return f"step runs {runs}, actions {actions}, enrollments proposed twice {twice} -> {'OK' if ok else 'FAILED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=5_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--policy", choices=["draft", "auto"], default="draft")
    args = parser.parse_args()

    database_migrate(DB_URL)
    django_setup(DB_URL)
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from routing.cadences import cadence_pass
    from routing.models import Enrollment

    started = time.perf_counter()
    seed(args.enrollments, args.due, args.policy, random.Random(7))
    seconds = time.perf_counter() - started
    print(
        f"seeded {args.enrollments:,} active enrollments ({args.due:,} due now) in {seconds:.1f} s;"
        f" follow-up policy '{args.policy}', batch {settings.CADENCE_BATCH}"
    )
    now = timezone.now()
    due = Enrollment.objects.filter(status="active", next_run_at__lte=now)
    due_times = dict(due.values_list("pk", "next_run_at"))
    due_ids = list(due_times)

    query = Enrollment.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        status="active", next_run_at__lte=now
    )
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = query.order_by("next_run_at")[: settings.CADENCE_BATCH].query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        print("pick query plan:\n  " + "\n  ".join(row[0] for row in cursor.fetchall()))

    clock = time.perf_counter()
    empty = cadence_pass(now=now - timedelta(days=1))
    print(f"pass with nothing due over {args.enrollments:,} enrollments: {(time.perf_counter() - clock) * 1000:.1f} ms")
    assert empty.total() == 0

    print(f"\n{'workers':>8} {'seconds':>8} {'steps/s':>8}  per worker (proposed)  check")
    for workers in [int(w) for w in args.workers.split(",")]:
        reset(due_ids, due_times)
        elapsed, summaries, action_ids = timed_pass(workers, now)
        shares = ", ".join(str(s["proposed"]) for s in summaries)
        rate = len(action_ids) / elapsed
        print(f"{workers:>8} {elapsed:>8.2f} {rate:>8.0f}  {shares:<21}  {check(len(due_ids), action_ids)}")


if __name__ == "__main__":
    main()
