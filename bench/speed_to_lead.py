#!/usr/bin/env python
"""Speed to lead under load: capture → first response handed to the SMS backend, at a fixed arrival rate.

Starts the real stack on loopback: gunicorn (2 sync workers, debug off) and one qcluster (2 workers)
against PostgreSQL, the first-response policy on auto (no confidence threshold), the rules provider
and the locmem SMS backend. Posts new leads through the API at 10, 50 and 100 per second for 60 s
each (a steady schedule, from a pool of client threads), with the ORM broker and then with Redis
(127.0.0.1:6379). Latency comes from the database's own timestamps: the event's insert to the sent
message's ``sent_at``. Prints p50/p95/p99/max per rate and the backlog (leads not yet answered)
every 5 s while posting, when the rate's minute ends and once drained; writes a PNG of latency over
time beside the table. Targets on 2 cores, at 50 leads/s: p95 <= 2 s with the ORM broker, <= 1 s
with Redis, no backlog growth (read here as: sampled every 5 s while posting, the backlog rises by
less than 5 % of the arrival rate a second, never holds more leads than arrive within the latency
target, and drains).

    .venv/bin/python bench/speed_to_lead.py [--rates 10,50,100] [--seconds 60] [--brokers orm,redis]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench).
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import database_recreate, django_setup, nearest_rank  # noqa: E402
from bench.ingest import DB_URL, free_port, manage, server_env, start_cluster, start_server  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"
RESULTS = ROOT / "bench" / "results"
MESSAGE = "Need a quote to replace my roof, budget about $12k, leaking after the storm. 30301"


def stack_env(broker: str) -> dict:
    env = {
        **server_env(),
        "LLM_PROVIDER": "rules",
        "SMS_BACKEND": "integrations.channels.LocmemSmsBackend",
        "Q_WORKERS": "2",
        "Q_POLL": "0.1",
    }
    if broker == "redis":
        env["REDIS_URL"] = REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    return env


def prepare(broker: str) -> str:
    """A fresh database with the demo, first responses on auto, and an API key; returns the key."""
    if "django.apps" in sys.modules and sys.modules["django.apps"].apps.ready:
        from django.db import connections

        connections.close_all()  # the database is dropped under it
    database_recreate(DB_URL)
    manage("migrate", "--noinput", "-v0")
    manage("createcachetable")
    manage("seed_demo", "--force")
    if broker == "redis":
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
    django_setup(DB_URL)
    from django.contrib.auth import get_user_model

    from approvals.models import Policy, PolicyGate
    from approvals.services import policy_update
    from integrations.models import ApiKey

    PolicyGate.objects.filter(policy__workflow="first_response").delete()
    # As a manager turns the dial: every process's policy snapshot hears the save.
    manager = get_user_model().objects.get(username="manager")
    policy_update(workflow="first_response", user=manager, mode=Policy.Mode.AUTO, min_confidence=0)
    return ApiKey.issue(f"bench-{broker}")[1]


def post_at_rate(
    port: int, key: str, rate: int, seconds: int, offset: int, tag: str, path: str = "/api/v1/events/"
) -> list[int]:
    """Send ``rate`` leads a second for ``seconds`` on a fixed schedule to ``path`` (the capture API, or the
    bench's bare DRF insert with the same body); returns the HTTP statuses."""
    local = threading.local()
    statuses: list[int] = []
    lock = threading.Lock()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def send(n: int) -> None:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps(
            {
                "channel": "form",
                "source": tag,
                "name": f"Lead {n}",
                "phone": f"+1512{4_000_000 + n:07d}",
                "message": MESSAGE,
            }  # fmt: skip
        ).encode()
        try:
            local.conn.request("POST", path, body=body, headers=headers)
            response = local.conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            local.conn.close()
            del local.conn
            status = 0
        with lock:
            statuses.append(status)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for i in range(rate * seconds):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, offset + i)
    return statuses


def backlog(tag: str) -> int:
    """Leads of this run captured but not answered yet."""
    from leads.models import Lead

    return Lead.objects.filter(source=tag, first_response_at__isnull=True).count()


def latencies(tag: str) -> list[tuple[float, float]]:
    """(seconds since the run began, capture → sent seconds) per answered lead, from the database's clocks."""
    from django.db.models import Min

    from leads.models import InboundEvent, Message

    events = dict(InboundEvent.objects.filter(source=tag).values_list("lead_id", "created_at"))
    sent = Message.objects.filter(lead_id__in=events, direction="out", sent_at__isnull=False)
    first = dict(sent.values("lead_id").annotate(at=Min("sent_at")).values_list("lead_id", "at"))
    if not events:
        return []
    origin = min(events.values())
    return sorted(
        ((events[lead] - origin).total_seconds(), (at - events[lead]).total_seconds()) for lead, at in first.items()
    )


SAMPLE_SECONDS = 5


def _sample_backlog(tag: str, samples: list[int], done: threading.Event) -> None:
    """Every SAMPLE_SECONDS until ``done``: how many leads wait unanswered (the database's count)."""
    from django.db import connection

    try:
        while not done.wait(SAMPLE_SECONDS):
            samples.append(backlog(tag))
    finally:
        connection.close()  # this thread's own connection


def backlog_trend(row: dict) -> float:
    """Leads a second by which the backlog rose while posting (least squares over the samples)."""
    samples = row["backlog_samples"]
    if len(samples) < 2:
        return 0.0
    return statistics.linear_regression([i * SAMPLE_SECONDS for i in range(len(samples))], samples).slope


def backlog_limits(rate: int, target: float) -> tuple[float, float]:
    """Before the backlog counts as growing: the most leads that may wait at once, and its fastest rise (leads/s).

    More leads waiting than arrive within the latency target wait longer than the target (Little's
    law); a rise of 5 % of the arrival rate a second is a queue that will not drain while leads come.
    """
    return target * rate, 0.05 * rate


def backlog_grows(row: dict, target: float) -> bool:
    """Whether work piles up rather than passes through: a limit of ``backlog_limits`` passed, or no drain."""
    most, rise = backlog_limits(row["rate"], target)
    return (
        backlog_trend(row) > rise
        or max(row["backlog_samples"], default=row["backlog_end"]) > most
        or row["backlog_after"] > 0
    )


def run_broker(broker: str, rates: list[int], seconds: int) -> list[dict]:
    key = prepare(broker)
    env = stack_env(broker)
    port = free_port()
    server = start_server(port, 2, env)
    worker = start_cluster(env)
    rows = []
    try:
        time.sleep(3)  # the cluster's workers start
        offset = 0
        for rate in rates:
            tag = f"bench-{broker}-{rate}"
            samples, done = [], threading.Event()
            sampler = threading.Thread(target=_sample_backlog, args=(tag, samples, done), daemon=True)
            sampler.start()
            statuses = post_at_rate(port, key, rate, seconds, offset, tag)
            done.set()
            sampler.join()
            offset += rate * seconds
            at_end = backlog(tag)
            deadline = time.monotonic() + 120
            while backlog(tag) and time.monotonic() < deadline:
                time.sleep(0.5)
            points = latencies(tag)
            values = [latency for _, latency in points]
            rows.append(
                {
                    "broker": broker,
                    "rate": rate,
                    "sent": len(statuses),
                    "refused": sum(s != 202 for s in statuses),
                    "answered": len(values),
                    "p50": nearest_rank(values, 0.5),
                    "p95": nearest_rank(values, 0.95),
                    "p99": nearest_rank(values, 0.99),
                    "max": max(values, default=float("nan")),
                    "backlog_end": at_end,
                    "backlog_after": backlog(tag),
                    "backlog_samples": samples,
                    "points": points,
                }
            )
            print(_line(rows[-1]), flush=True)
            print(
                f"{'':<14}backlog every {SAMPLE_SECONDS} s: {' '.join(map(str, samples))} "
                f"(trend {backlog_trend(rows[-1]):+.2f} leads/s)",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        worker.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
        worker.wait(timeout=60)
    return rows


HEADER = f"{'broker':<6} {'rate/s':>6} {'sent':>6} {'non-202':>7} {'answered':>8} {'p50 s':>7} {'p95 s':>7} " \
         f"{'p99 s':>7} {'max s':>7} {'backlog at end':>14} {'after drain':>11}"  # fmt: skip


def _line(row: dict) -> str:
    return (
        f"{row['broker']:<6} {row['rate']:>6} {row['sent']:>6} {row['refused']:>7} {row['answered']:>8} "
        f"{row['p50']:>7.2f} {row['p95']:>7.2f} {row['p99']:>7.2f} {row['max']:>7.2f} {row['backlog_end']:>14} "
        f"{row['backlog_after']:>11}"
    )


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    brokers = sorted({r["broker"] for r in rows})
    fig, axes = plt.subplots(len(brokers), 1, figsize=(10, 3.5 * len(brokers)), squeeze=False)
    for ax, broker in zip(axes[:, 0], brokers, strict=True):
        offset = 0.0
        for row in (r for r in rows if r["broker"] == broker):
            xs = [offset + x for x, _ in row["points"]]
            ax.scatter(xs, [y for _, y in row["points"]], s=2, label=f"{row['rate']}/s")
            offset = max(xs, default=offset) + 5
        ax.set_title(f"Capture → first response sent ({broker} broker)")
        ax.set_xlabel("seconds into the run")
        ax.set_ylabel("latency, s")
        ax.set_yscale("log")
        ax.legend(markerscale=5)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="10,50,100")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--brokers", default="orm,redis")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    rows = []
    print(HEADER, flush=True)
    for broker in args.brokers.split(","):
        rows += run_broker(broker, rates, args.seconds)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "speed_to_lead.png"
    plot(rows, path)
    print(f"\nplot: {path}")
    for broker, target in (("orm", 2.0), ("redis", 1.0)):
        at_50 = next((r for r in rows if r["broker"] == broker and r["rate"] == 50), None)
        if at_50:
            grows = backlog_grows(at_50, target)
            met = at_50["p95"] <= target and not grows
            most, rise = backlog_limits(50, target)
            print(
                f"{broker} at 50/s: p95 {at_50['p95']:.2f} s (target <= {target:g} s); backlog at most "
                f"{max(at_50['backlog_samples'], default=0)} (limit {most:.0f}), trend "
                f"{backlog_trend(at_50):+.2f} leads/s (limit +{rise:g}): {'grows' if grows else 'no growth'} "
                f"-> {'met' if met else 'NOT MET'}"
            )


if __name__ == "__main__":
    main()
