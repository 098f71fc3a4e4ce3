#!/usr/bin/env python
"""The CPU one lead costs on the real stack, by process kind, and the machine's share of it.

Starts the speed-to-lead stack (gunicorn 2 workers, one qcluster, PostgreSQL, rules provider,
locmem SMS, first responses on auto), posts leads at a rate the machine sustains, waits until
every one is answered, and prints CPU seconds per lead for the client, gunicorn, qcluster,
PostgreSQL and Redis (from /proc/<pid>/stat), and the whole machine's busy time (/proc/stat).
Divide the cores' 2,000 ms a second by the machine figure for the leads per second it can answer.
First it measures the stack idle for a few seconds: what it spends with no lead (the cluster's
polling, its scheduler) is printed per second, and per lead it is a smaller share at a higher rate.

    .venv/bin/python bench/cpu_per_lead.py [--broker orm] [--rate 15] [--seconds 30] [--workers 2]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench).
"""

import argparse
import os
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import nearest_rank  # noqa: E402
from bench.ingest import free_port, start_cluster, start_server  # noqa: E402
from bench.speed_to_lead import backlog, latencies, post_at_rate, prepare, stack_env  # noqa: E402

KINDS = ("gunicorn", "qcluster", "postgres", "redis")


def process_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds so far of every process of the stack, by pid: (kind, seconds)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = "client" if int(pid) == os.getpid() else next((k for k in KINDS if k in command), None)
        if kind:
            found[int(pid)] = (kind, (int(fields[11]) + int(fields[12])) / tick)
    return found


def spent_between(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds each kind of process spent between two ``process_cpu()`` readings."""
    spent = defaultdict(float)
    for pid, (kind, seconds) in after.items():
        spent[kind] += seconds - before.get(pid, (kind, 0.0))[1]
    return spent


def machine_cpu() -> tuple[int, int]:
    """(all, idle) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values), values[3] + values[4]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--broker", default="orm", choices=("orm", "redis"))
    parser.add_argument("--rate", type=int, default=15)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", default="2", help="Q_WORKERS of the cluster")
    parser.add_argument("--idle", type=float, default=10, help="seconds to measure the idle stack first")
    args = parser.parse_args()
    key = prepare(args.broker)
    env = {**stack_env(args.broker), "Q_WORKERS": args.workers}
    port = free_port()
    server = start_server(port, 2, env)
    worker = start_cluster(env)
    try:
        time.sleep(4)
        idle_before, idle_started = process_cpu(), time.monotonic()
        time.sleep(args.idle)
        idle = spent_between(idle_before, process_cpu())
        idle_wall = time.monotonic() - idle_started
        tag = f"cpu-{args.broker}-{args.rate}"
        before, machine_before, started = process_cpu(), machine_cpu(), time.monotonic()
        statuses = post_at_rate(port, key, args.rate, args.seconds, 0, tag)
        at_end = backlog(tag)
        while backlog(tag):
            time.sleep(0.2)
        wall = time.monotonic() - started
        after, machine_after = process_cpu(), machine_cpu()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    spent = spent_between(before, after)
    leads = len(statuses)
    busy = 1 - (machine_after[1] - machine_before[1]) / (machine_after[0] - machine_before[0])
    cores = os.cpu_count() or 1
    print(f"{args.broker} broker, {leads} leads at {args.rate}/s, Q_WORKERS={args.workers}: "
          f"backlog {at_end} when posting ended, all answered after {wall:.1f} s")  # fmt: skip
    for kind in ("client", *KINDS):
        print(f"  {kind:<9} {spent[kind]:7.2f} s CPU  {spent[kind] / leads * 1000:6.1f} ms per lead"
              f"   (idle: {idle[kind] / idle_wall * 1000:5.1f} ms a second)")  # fmt: skip
    # Processes that ended meanwhile (django-q2 recycles its workers) are missing above, not below.
    machine_ms = busy * cores * wall / leads * 1000
    print(f"  machine   {busy * 100:5.0f}% of {cores} cores busy  {machine_ms:6.1f} ms per lead "
          f"-> at most {cores * 1000 / machine_ms:.0f} leads/s on this machine")  # fmt: skip
    values = [latency for _, latency in latencies(tag)]
    print(f"  capture -> sent: p50 {nearest_rank(values, 0.5):.2f} s, p95 {nearest_rank(values, 0.95):.2f} s")


if __name__ == "__main__":
    main()
