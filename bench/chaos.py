#!/usr/bin/env python
"""Exactly once, whatever crashes: 500 leads with automatic first responses while the worker is killed.

Starts gunicorn (2 workers) and a qcluster (2 workers) against PostgreSQL with the ORM broker, the
first-response policy on auto and the locmem SMS backend, then posts 500 new leads (each twice:
the second is a client's retry) while a killer sends SIGKILL to the whole qcluster ten times at
random moments and starts a new one at once. With --stop-postgres it also stops PostgreSQL for 10 s
in the middle (pg_ctlcluster; needs root) and checks that capture answered 503 with a plain body
meanwhile, and that every request that got a 202 was processed once it was back. At the end, after
the broker's retry delay has passed: every lead must have exactly one first response sent (zero
lost, zero duplicates) and every action be in a final state or visibly failed.

    .venv/bin/python bench/chaos.py [--leads 500] [--kills 10] [--stop-postgres]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench).
"""

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.ingest import PYTHON, free_port, start_server  # noqa: E402
from bench.speed_to_lead import MESSAGE, prepare, stack_env  # noqa: E402


class Worker:
    """The qcluster, restartable: SIGKILL takes its whole process group (cluster, sentinel, workers)."""

    def __init__(self, env: dict):
        self.env, self.proc, self.kills = env, None, 0
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL
        )

    def kill_and_restart(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.kills += 1
        self.start()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def post_leads(port: int, key: str, total: int) -> list[tuple[int, int, str]]:
    """Each lead posted twice (the same Idempotency-Key): (lead number, status, body) per request."""
    local, results, lock = threading.local(), [], threading.Lock()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def send(n: int) -> None:
        body = json.dumps({"channel": "form", "source": "chaos", "name": f"Chaos {n}",
                           "phone": f"+1512{6_000_000 + n:07d}", "message": MESSAGE}).encode()  # fmt: skip
        for _ in range(2):
            if not hasattr(local, "conn"):
                local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                local.conn.request(
                    "POST", "/api/v1/events/", body=body, headers={**headers, "Idempotency-Key": f"c{n}"}
                )
                response = local.conn.getresponse()
                status, text = response.status, response.read().decode()
            except (OSError, http.client.HTTPException) as exc:
                local.conn.close()
                del local.conn
                status, text = 0, str(exc)
            with lock:
                results.append((n, status, text))

    with ThreadPoolExecutor(max_workers=8) as pool:
        for n in range(total):
            pool.submit(send, n)
            time.sleep(0.04)  # about 25 leads a second: the stack keeps up, the kills land mid-flow
    return results


def postgres(action: str) -> None:
    version = next(iter(sorted(os.listdir("/etc/postgresql"))))
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=500)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--stop-postgres", action="store_true")
    args = parser.parse_args()

    key = prepare("orm")
    env = stack_env("orm")
    port = free_port()
    server = start_server(port, 2, env)
    worker = Worker(env)
    rng = random.Random(11)
    duration = args.leads * 0.04
    moments = sorted(rng.uniform(1, duration) for _ in range(args.kills))

    def killer():
        started = time.monotonic()
        for moment in moments:
            time.sleep(max(0.0, started + moment - time.monotonic()))
            worker.kill_and_restart()

    def outage():
        time.sleep(duration / 2)
        postgres("stop")
        time.sleep(10)
        postgres("start")

    threads = [threading.Thread(target=killer)]
    if args.stop_postgres:
        threads.append(threading.Thread(target=outage))
    for t in threads:
        t.start()
    try:
        results = post_leads(port, key, args.leads)
        for t in threads:
            t.join()
        from django.db import connections

        connections.close_all()
        from leads.models import Lead

        # Tasks a killed worker held come back after the broker's retry delay (Q_CLUSTER["retry"], 90 s).
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if not Lead.objects.filter(source="chaos", first_response_at__isnull=True).exists():
                break
            time.sleep(2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        worker.stop()
        server.wait(timeout=15)

    from django.db.models import Count

    from approvals.models import Action
    from leads.models import InboundEvent, Lead, Message

    statuses = Counter(status for _, status, _ in results)
    refused = [(n, text) for n, status, text in results if status == 503]
    accepted = {n for n, status, _ in results if status == 202}
    leads = Lead.objects.filter(source="chaos")
    sent = Counter(
        Message.objects.filter(lead__source="chaos", direction="out", status="sent").values_list("lead_id", flat=True)
    )
    lost = leads.exclude(pk__in=list(sent)).count()
    twice = sum(1 for n in sent.values() if n > 1)
    events = InboundEvent.objects.filter(source="chaos").values("idempotency_key").annotate(n=Count("id"))
    duplicate_events = sum(1 for e in events if e["n"] > 1)
    open_actions = Counter(
        Action.objects.filter(lead__source="chaos")
        .exclude(status__in=("done", "failed", "rejected", "cancelled"))
        .values_list("status", flat=True)
    )
    print(f"\n{args.leads} leads, each posted twice; qcluster killed {worker.kills} times (SIGKILL, restarted at once)")
    print(f"responses: {dict(statuses)}")
    if args.stop_postgres:
        plain = all("Traceback" not in text and "database is unavailable" in text for _, text in refused)
        print(f"during the 10 s PostgreSQL outage: {len(refused)} answered 503, plain reason: {plain}")
    print(
        f"leads {leads.count()} (accepted {len(accepted)}); answered {len(sent)}; lost {lost}; answered twice {twice}"
    )
    print(f"duplicate events {duplicate_events}; actions not final: {dict(open_actions) or 'none'}")
    ok = lost == 0 and twice == 0 and duplicate_events == 0 and not open_actions and leads.count() == len(accepted)
    print("exactly once:", "met" if ok else "NOT MET")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
