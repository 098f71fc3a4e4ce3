#!/usr/bin/env python
"""The queue page with 10,000 pending actions: render time and query count, in PostgreSQL.

Seeds the demo (manager, three reps, policies, templates), then 10,000 leads with one pending
draft each (a tenth escalated by a gate to managers, scores spread 0-100) and 100,000 done
actions as history, runs ANALYZE (as autovacuum would), and renders the
portal's queue through Django's test client (every middleware, the session, the templates):
the manager's whole queue oldest and hottest first, filtered to gated actions, a rep's own
queue, and the HTMX poll that refreshes the rows. Prints p50/p95/max milliseconds and the
queries each request ran. Target: under 200 ms, and queries that do not grow with the rows.

    .venv/bin/python bench/portal.py [--actions 10000] [--history 100000] [--requests 40]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench_portal).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import database_migrate, django_setup  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nightshift_bench_portal")


def seed(count: int, history: int, rng: random.Random) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from approvals.models import Action, Reviewer
    from leads.models import Lead

    call_command("seed_demo", "--force", verbosity=0)
    reps = list(get_user_model().objects.filter(username__startswith="rep").order_by("username"))
    leads = Lead.objects.bulk_create(
        Lead(
            name=f"Lead {i}",
            phone=f"+1512{i:07d}",
            owner=reps[i % len(reps)],
            score=rng.randint(0, 100),
            stage="qualified",
        )
        for i in range(count)
    )
    actions = []
    for i, lead in enumerate(leads):
        gated = i % 10 == 0
        actions.append(
            Action(
                lead=lead,
                workflow="quote" if gated else "first_response",
                kind=Action.Kind.SEND_SMS,
                status=Action.Status.PENDING,
                payload={"to": lead.phone, "body": f"Hi Lead {i}, thanks for reaching out! When suits you?"},
                confidence=round(rng.random(), 2),
                reasoning="Looks like a quote request; score above the threshold.",
                escalated=gated,
                escalation_reason="gate 'Quotes over 5,000': quote amount 7,500 > 5,000" if gated else "",
                review_by=Reviewer.MANAGER if gated else Reviewer.REP,
                amount=7500 if gated else None,
            )
        )
    Action.objects.bulk_create(actions, batch_size=2000)
    # Decided history the queue must not pay for: done actions on the same leads.
    done = [
        Action(
            lead=leads[i % len(leads)],
            workflow="first_response",
            kind=Action.Kind.SEND_SMS,
            status=Action.Status.DONE,
            payload={"to": "", "body": "Sent earlier."},
            decided_by=reps[i % len(reps)],
        )
        for i in range(history)
    ]
    Action.objects.bulk_create(done, batch_size=5000)


def measure(client, path: str, requests: int, headers=None) -> tuple[list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path, headers=headers or {})  # warm: compiled templates, session, content types
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(path, headers=headers or {})
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers or {})
    rows = response.content.decode().count('<article class="card action')
    return timings, len(queries), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=100_000, help="done actions stored besides the pending ones")
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    database_migrate(DB_URL)
    django_setup(DB_URL)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from approvals.models import Action

    started = time.perf_counter()
    seed(args.actions, args.history, random.Random(7))
    with connection.cursor() as cursor:
        # What autovacuum does minutes after a bulk load; without statistics the planner guesses one row.
        cursor.execute("ANALYZE")
    pending = Action.objects.filter(status="pending").count()
    print(
        f"seeded {pending:,} pending and {args.history:,} done actions in {time.perf_counter() - started:.1f} s "
        f"(PostgreSQL: {DB_URL})"
    )
    users = {name: get_user_model().objects.get(username=name) for name in ("manager", "rep1")}
    cases = [
        ("manager", "/portal/queue/", None, "manager: every queue, oldest first"),
        ("manager", "/portal/queue/?sort=hottest", None, "manager: hottest first"),
        ("manager", "/portal/queue/?escalation=gate", None, "manager: held by a gate"),
        ("manager", "/portal/queue/?page=20", None, "manager: page 20"),
        ("rep1", "/portal/queue/", None, "rep1: own queue"),
        ("rep1", "/portal/queue/", {"HX-Request": "true", "HX-Target": "queue-rows"}, "rep1: HTMX poll (rows only)"),
    ]
    print(f"\n{'request':<38} {'rows':>5} {'queries':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for who, path, headers, label in cases:
        client = Client(SERVER_NAME="localhost")
        client.force_login(users[who])
        timings, queries, rows = measure(client, path, args.requests, headers)
        p95 = statistics.quantiles(timings, n=20)[18]
        worst = max(worst, p95)
        print(f"{label:<38} {rows:>5} {queries:>8} {statistics.median(timings):>8.1f} {p95:>8.1f} {max(timings):>8.1f}")
    print(f"\nworst p95 {worst:.1f} ms (target < 200 ms)")


if __name__ == "__main__":
    main()
