#!/usr/bin/env python
"""Where a lead's time goes: capture, then event_process (which sends the first answer), one at a time.

Prepares the speed-to-lead database (demo data, first responses on auto, rules provider, locmem
SMS), captures N leads through the API with the DRF client while no worker runs, then runs every
queued event_process task through its task function (the automatic first answer is sent by that
task, right after its commit), counting queries and milliseconds per lead for each stage. With
--profile it prints cProfile's top functions per stage (py-spy cannot read this machine's pyenv build).

    .venv/bin/python bench/pipeline_profile.py [--leads 200] [--profile] [--sort tottime] [--sql]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench).
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(
    {
        "LLM_PROVIDER": "rules",
        "SMS_BACKEND": "integrations.channels.LocmemSmsBackend",
        "DJANGO_DEBUG": "false",
        "DJANGO_HTTPS": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production",
        "LOG_LEVEL": "ERROR",
    }
)
from bench.speed_to_lead import MESSAGE, prepare  # noqa: E402


def measure(label: str, run, items: list, profile: bool, sort: str, sql: bool = False) -> None:
    from django.db import connection

    # CPU time, not wall time: waiting on PostgreSQL is not this process's cost.
    profiler = cProfile.Profile(time.process_time) if profile else None
    statements: list[str] = []

    def count(execute, query, params, many, context):
        statements.append(query)
        return execute(query, params, many, context)

    queries, elapsed, cpu = 0, 0.0, 0.0
    # A wrapper, not the debug cursor: the debug cursor renders every statement with its values, which costs
    # more CPU than some of the statements themselves and would be counted as the pipeline's.
    with connection.execute_wrapper(count):
        for item in items:
            statements.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            run(item)
            if profiler:
                profiler.disable()
            elapsed += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            queries += len(statements)
            if sql and item is items[-1]:
                for query in statements:
                    print(f"    {query[:160]}")
    per = len(items) or 1
    print(
        f"{label:<15} {elapsed / per * 1000:7.2f} ms ({cpu / per * 1000:6.2f} ms CPU in this process) "
        f"{queries / per:6.1f} statements per lead (BEGIN/COMMIT not counted)"
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(30)
        print(out.getvalue())


def queued(name: str) -> list[tuple]:
    """The queued calls of task ``name`` (ORM broker), removed from the queue."""
    from django_q.models import OrmQ

    calls = [(row.task["args"], row.task["kwargs"]) for row in OrmQ.objects.order_by("id") if row.task["func"] == name]
    OrmQ.objects.all().delete()
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--sql", action="store_true", help="print the last lead's queries for each stage")
    args = parser.parse_args()
    key = prepare("orm")

    from django.conf import settings
    from django_q.conf import Conf
    from rest_framework.test import APIClient

    from routing.tasks import event_process

    settings.ALLOWED_HOSTS = ["*"]
    Conf.SYNC = False  # tasks wait in the queue, to be run one stage at a time below
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    def capture(n: int) -> None:
        body = {"channel": "form", "source": "profile", "phone": f"+1512{4_000_000 + n:07d}", "message": MESSAGE}
        response = client.post("/api/v1/events/", body, format="json")
        assert response.status_code == 202, response.content

    for n in range(5):  # warm up: the first lead builds the snapshots
        capture(n)
    for args_, kwargs in queued("routing.tasks.event_process"):
        event_process(*args_, **kwargs)
    measure("capture (API)", capture, list(range(10, 10 + args.leads)), args.profile, args.sort, args.sql)
    measure(
        "process_event", lambda call: event_process(*call[0], **call[1]), queued("routing.tasks.event_process"),
        args.profile, args.sort, args.sql,
    )  # fmt: skip


if __name__ == "__main__":
    main()
