#!/usr/bin/env python
"""Exactly once, whatever crashes: 500 leads with automatic first responses while the worker is killed.

Starts gunicorn (2 workers) and a qcluster (2 workers) against PostgreSQL with the ORM broker, the
first-response policy on auto and Twilio as the SMS provider (a local fake Twilio, reached through
the real SDK, that keeps every message it accepts). It posts 500 new leads, each twice with the same
Idempotency-Key (a client's retry), the copies shuffled among their neighbours so they often arrive
together, while a killer sends SIGKILL to the whole qcluster ten times at random moments and starts a
new one at once. With --stop-postgres it also stops PostgreSQL for 10 s in the middle
(pg_ctlcluster; needs root) and checks that capture answered 503 with a plain body meanwhile, and
that every request that got a 202 was processed once it was back.

A send a kill interrupted stays "executing" until the stalled-send sweep (scheduled every 5 minutes;
run here directly once EXECUTE_STALL_MINUTES=1 has passed) asks Twilio whether it has the message:
recorded if so, sent again if surely not. A first answer is claimed in the transaction that approves
it, so a worker killed between that commit and the send leaves it "executing" too, for the same sweep;
events a killed cluster left unprocessed go to the requeue sweep (run here too, with
REQUEUE_MINUTES=1). At the end, counted
at Twilio and in the database: every lead has exactly one first response (zero lost, zero
duplicates), and every action is final.

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
from bench.ingest import free_port, start_cluster, start_server  # noqa: E402
from bench.speed_to_lead import MESSAGE, prepare, stack_env  # noqa: E402
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio  # noqa: E402


class Worker:
    """The qcluster under a supervisor, as systemd's Restart=always runs it: started again whenever it exits.

    SIGKILL takes its whole process group (cluster, sentinel, workers). A cluster started while
    PostgreSQL is down exits at once; the supervisor starts it again a second later.
    """

    def __init__(self, env: dict):
        self.env, self.proc, self.kills, self.restarts = env, None, 0, 0
        self._lock, self._stopping = threading.Lock(), threading.Event()
        self.start()
        threading.Thread(target=self._supervise, daemon=True).start()

    def start(self) -> None:
        self.proc = start_cluster(self.env)

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            with self._lock:
                if self.proc.poll() is not None and not self._stopping.is_set():
                    self.restarts += 1
                    self.start()

    def kill_and_restart(self) -> None:
        with self._lock:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.kills += 1
            self.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


def phone(n: int) -> str:
    return f"+1512{6_000_000 + n:07d}"


def post_leads(port: int, key: str, total: int) -> list[tuple[int, int, str]]:
    """Each lead posted twice (the same Idempotency-Key), copies shuffled among neighbours: (n, status, body)."""
    local, results, lock = threading.local(), [], threading.Lock()
    rng = random.Random(7)
    order = sorted((n for n in range(total) for _ in range(2)), key=lambda n: n + rng.uniform(0, 4))
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def send(n: int) -> None:
        body = json.dumps({"channel": "form", "source": "chaos", "name": f"Chaos {n}",
                           "phone": phone(n), "message": MESSAGE}).encode()  # fmt: skip
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            local.conn.request("POST", "/api/v1/events/", body=body, headers={**headers, "Idempotency-Key": f"c{n}"})
            response = local.conn.getresponse()
            status, text = response.status, response.read().decode()
        except (OSError, http.client.HTTPException) as exc:
            local.conn.close()
            del local.conn
            status, text = 0, str(exc)
        with lock:
            results.append((n, status, text))

    with ThreadPoolExecutor(max_workers=8) as pool:
        for n in order:
            pool.submit(send, n)
            time.sleep(0.02)  # about 25 leads a second: the stack keeps up, the kills land mid-flow
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

    # Twilio's API takes a few hundred ms to accept a message: kills land mid-send as they would in production.
    twilio = FakeTwilio(fail=lambda body: time.sleep(0.25)).__enter__()
    provider = {
        "SMS_BACKEND": "integrations.channels.TwilioSmsBackend",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+15125550000",
        "TWILIO_API_URL": twilio.url,
        "EXECUTE_STALL_MINUTES": "1",
        "REQUEUE_MINUTES": "1",
    }
    # This process runs the sweeps with the stack's settings; the tasks it queues are signed with its key.
    os.environ.update({**provider, "DJANGO_SECRET_KEY": stack_env("orm")["DJANGO_SECRET_KEY"]})
    key = prepare("orm")
    env = {**stack_env("orm"), **provider}
    port = free_port()
    server = start_server(port, 2, env)
    worker = Worker(env)
    rng = random.Random(11)
    duration = args.leads * 2 * 0.02
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
        from approvals.services import executions_stalled
        from leads.models import Lead
        from routing.tasks import lost_work_requeue

        # Tasks a killed worker held come back after the broker's retry delay (Q_CLUSTER["retry"], 90 s);
        # sends it cut short (first answers it claimed and did not send among them) are settled by the sweep
        # once they are a minute old, and events it never processed are queued again by the requeue sweep.
        deadline, settled, requeued = time.monotonic() + 400, 0, 0
        while time.monotonic() < deadline:
            if not Lead.objects.filter(source="chaos", first_response_at__isnull=True).exists():
                break
            settled += executions_stalled()
            requeued += sum(lost_work_requeue().values())
            time.sleep(5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        worker.stop()
        server.wait(timeout=15)

    from django.db.models import Count

    from approvals.models import Action
    from leads.models import InboundEvent, Lead, Message

    twilio.__exit__()
    at_twilio = Counter(m["To"] for m in twilio.messages)
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
    print(
        f"\n{args.leads} leads, each posted twice; qcluster killed {worker.kills} times (SIGKILL, restarted at once); "
        f"it exited by itself {worker.restarts} times and was restarted by the supervisor"
    )
    print(f"responses: {dict(statuses)}")
    if args.stop_postgres:
        plain = all("Traceback" not in text and "database is unavailable" in text for _, text in refused)
        print(f"during the 10 s PostgreSQL outage: {len(refused)} answered 503, plain reason: {plain}")
    print(
        f"leads {leads.count()} (accepted {len(accepted)}); answered {len(sent)}; lost {lost}; answered twice {twice}"
    )
    print(f"duplicate events {duplicate_events}; actions not final: {dict(open_actions) or 'none'}")
    from audit.models import Decision

    notes = Decision.objects.filter(lead__source="chaos", step="execute")
    recorded = notes.filter(reasoning__contains="the provider had the message").count()
    resent = notes.filter(reasoning__contains="has no such message").count()
    texted = {phone(n) for n in accepted}
    twilio_ok = set(at_twilio) == texted and set(at_twilio.values()) == {1}
    print(
        f"at Twilio: {len(at_twilio)} numbers texted, {sum(at_twilio.values())} messages, "
        f"{sum(1 for c in at_twilio.values() if c > 1)} numbers texted twice, "
        f"{len(texted - set(at_twilio))} accepted leads never texted; interrupted sends settled: "
        f"{recorded + resent} ({recorded} found at Twilio and recorded, {resent} sent again; {settled} by this "
        f"script's sweeps, the rest by the cluster's own schedule); events and approved sends "
        f"queued again by the requeue sweep: {requeued}"
    )
    ok = (
        lost == 0
        and twice == 0
        and duplicate_events == 0
        and not open_actions
        and leads.count() == len(accepted)
        and twilio_ok
    )
    print("exactly once:", "met" if ok else "NOT MET")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
