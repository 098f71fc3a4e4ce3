#!/usr/bin/env python
"""Inbound SMS webhooks: 1,000 signed Twilio callbacks, each sent twice, from concurrent clients on loopback.

Starts gunicorn (debug off) and a qcluster worker against PostgreSQL, posts every callback twice
in shuffled order from a pool of client threads, each signed with twilio's RequestValidator for
the public URL, and prints the response-time percentiles (target: p95 under 100 ms; the capture
happens in the task). It then waits for the worker to capture everything and counts: exactly one
stored delivery, one event and one lead per message, however many times it arrived.

    .venv/bin/python bench/webhooks.py [--messages 1000] [--concurrency 8] [--workers 4]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench).
"""

import argparse
import http.client
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import django_setup, nearest_rank  # noqa: E402
from bench.ingest import DB_URL, free_port, manage, start_cluster, start_server  # noqa: E402

TOKEN = "bench-twilio-auth-token"
PUBLIC = "https://sms.bench.example.com"
PATH = "/integrations/twilio/sms/"


def callbacks(total: int) -> list[tuple[str, bytes]]:
    """(signature, form body) for ``total`` distinct inbound texts from distinct numbers."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    out = []
    for n in range(total):
        params = {
            "MessageSid": f"SM{n:032x}",
            "AccountSid": "AC" + "0" * 32,
            "From": f"+1512{3_000_000 + n:07d}",
            "To": "+15125550000",
            "Body": "Hi, my roof is leaking after the storm, can someone come quote a repair? 30301",
            "NumMedia": "0",
        }
        out.append((validator.compute_signature(PUBLIC + PATH, params), urlencode(params).encode()))
    return out


def post_all(port: int, requests: list[tuple[str, bytes]], concurrency: int) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    statuses: list[int] = []
    pending = iter(requests)
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                item = next(pending, None)
            if item is None:
                break
            signature, body = item
            headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
            start = time.perf_counter()
            conn.request("POST", PATH, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed * 1000)
                statuses.append(response.status)
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses


def wait_processed(total: int, timeout: float) -> float:
    from integrations.models import InboundWebhook

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not InboundWebhook.objects.filter(status=InboundWebhook.Status.RECEIVED).exists():
            return time.monotonic() - started
        time.sleep(0.5)
    raise SystemExit(f"the worker did not capture all {total} messages within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (2 per gunicorn worker)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    args = parser.parse_args()

    os.environ.update({"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": PUBLIC, "Q_WORKERS": "2"})
    from bench.common import database_recreate

    database_recreate(DB_URL)
    manage("migrate", "--noinput", "-v0")
    manage("createcachetable")
    manage("seed_demo", "--force")
    django_setup(DB_URL)

    requests = callbacks(args.messages) * 2
    random.Random(7).shuffle(requests)
    port = free_port()
    server = start_server(port, args.workers)
    worker = start_cluster(stdout=None)
    try:
        # Warm-up: the first 50 messages once more, so they arrive three times in all.
        post_all(port, callbacks(50), args.concurrency)
        started = time.perf_counter()
        latencies, statuses = post_all(port, requests, args.concurrency)
        wall = time.perf_counter() - started
        waited = wait_processed(args.messages, timeout=600)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        worker.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
        worker.wait(timeout=30)

    from django.db.models import Count

    from integrations.models import InboundWebhook
    from leads.models import InboundEvent, Lead

    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return nearest_rank(ordered, p)

    duplicates = (
        InboundEvent.objects.values("source", "external_id").annotate(n=Count("id")).filter(n__gt=1).count()
        + Lead.objects.values("phone").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    stored, events, leads = InboundWebhook.objects.count(), InboundEvent.objects.count(), Lead.objects.count()
    failed = InboundWebhook.objects.exclude(status=InboundWebhook.Status.PROCESSED).count()
    print(f"\nTwilio SMS webhooks: {args.messages} messages x 2 deliveries, {args.concurrency} client threads,")
    print(f"gunicorn {args.workers} sync workers, one qcluster (2 workers), PostgreSQL\n")
    print(f"requests {len(latencies)}  non-200 {sum(s != 200 for s in statuses)}  {len(latencies) / wall:.0f} req/s")
    print(f"response ms  p50 {pct(0.50):.1f}  p95 {pct(0.95):.1f}  p99 {pct(0.99):.1f}  max {ordered[-1]:.1f}")
    print(f"captured by the worker {waited:.1f} s after the last response")
    print(
        f"stored deliveries {stored}  events {events}  leads {leads}  not processed {failed}  duplicates {duplicates}"
    )
    ok = pct(0.95) < 100 and stored == events == leads == args.messages and duplicates == 0 and not failed
    print("target: p95 < 100 ms, one delivery/event/lead per message, zero duplicates:", "met" if ok else "NOT MET")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
