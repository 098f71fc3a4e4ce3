#!/usr/bin/env python
"""The CPU one lead costs on the real stack, by process kind, and the machine's share of it.

Starts the speed-to-lead stack (gunicorn 2 workers, one qcluster, PostgreSQL, rules provider,
locmem SMS, first responses on auto), posts leads at a rate the machine sustains, waits until
every one is answered, and prints CPU seconds per lead for the client, gunicorn, qcluster,
PostgreSQL and Redis (from /proc/<pid>/stat), and the whole machine's busy time (/proc/stat).
Divide the cores' 2,000 ms a second by the machine figure for the leads per second it can answer.
First it measures the stack idle for a few seconds: what it spends with no lead (the cluster's
polling, its scheduler) is printed per second, and per lead it is a smaller share at a higher rate.
Last it posts the same bodies at the same rate to a bare DRF create endpoint (one INSERT, same server and
authentication: bench/baseline) and prints the stack's CPU per lead as a multiple of that request's: machines
here differ 2-3x on the same bench, a ratio measured in one run travels between them.

    .venv/bin/python bench/cpu_per_lead.py [--broker orm] [--rate 15] [--seconds 30] [--workers 2] [--profile DIR]

--profile DIR writes a cProfile (CPU time) of every qcluster child process to DIR and prints each role's top
functions (pusher, worker, monitor): where the worker's time goes around the pipeline, under load.

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench).
"""

import argparse
import io
import os
import pstats
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


def settle(quiet_ms: float = 50, longest: float = 90) -> None:
    """Wait until the stack has started and warmed (workers load the language model on spawn): two seconds in a
    row in which its processes spend under ``quiet_ms`` of CPU, so the idle reading is the idle stack's."""
    time.sleep(2)
    quiet, deadline = 0, time.monotonic() + longest
    while quiet < 2 and time.monotonic() < deadline:
        before = process_cpu()
        time.sleep(1)
        spent = sum(seconds for kind, seconds in spent_between(before, process_cpu()).items() if kind != "client")
        quiet = quiet + 1 if spent * 1000 < quiet_ms else 0


def profile_report(folder: Path, leads: int, top: int = 25) -> None:
    """Print each qcluster role's CPU per lead and its top functions by own time, from ``--profile``'s files."""
    roles: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(folder.glob("*.prof")):
        functions = {name for (_, _, name) in pstats.Stats(str(path)).stats}
        role = next((r for r in ("pusher", "monitor", "worker", "scheduler") if r in functions), "other")
        roles[role].append(path)
    for role, paths in roles.items():
        stats = pstats.Stats(*map(str, paths), stream=(out := io.StringIO()))
        print(f"\n--- {role} ({len(paths)} processes): {stats.total_tt / leads * 1000:.2f} ms CPU per lead")
        stats.sort_stats("tottime").print_stats(top)
        print("\n".join(out.getvalue().splitlines()[6:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--broker", default="orm", choices=("orm", "redis"))
    parser.add_argument("--rate", type=int, default=15)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", default="2", help="Q_WORKERS of the cluster")
    parser.add_argument("--idle", type=float, default=10, help="seconds to measure the idle stack first")
    parser.add_argument("--profile", type=Path, help="folder for a cProfile of each qcluster process")
    args = parser.parse_args()
    key = prepare(args.broker)
    env = {**stack_env(args.broker), "Q_WORKERS": args.workers}
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        for old in args.profile.glob("*.prof"):
            old.unlink()
        env.update(PYTHONPATH=str(ROOT / "bench" / "profile_hook"), BENCH_PROFILE_DIR=str(args.profile.resolve()))
    port = free_port()
    server = start_server(port, 2, env)
    worker = start_cluster(env)
    try:
        settle()
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
        baseline_before = process_cpu()
        baseline_statuses = post_at_rate(port, key, args.rate, args.seconds, 0, tag, path="/bench/baseline/")
        baseline = spent_between(baseline_before, process_cpu())
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
    # The stack's own processes, not the machine: other work on the machine does not count against either side.
    stack_ms = sum(spent[kind] - idle[kind] / idle_wall * wall for kind in KINDS) / leads * 1000
    baseline_wall = args.seconds
    baseline_ms = (
        sum(baseline[kind] - idle[kind] / idle_wall * baseline_wall for kind in KINDS) / len(baseline_statuses) * 1000
    )
    print(f"  stack CPU per lead (idle cost taken out) {stack_ms:.1f} ms; bare DRF insert request {baseline_ms:.1f} ms"
          f" -> {stack_ms / baseline_ms:.1f}x the bare insert (target <= 6x)")  # fmt: skip
    values = [latency for _, latency in latencies(tag)]
    print(f"  capture -> sent: p50 {nearest_rank(values, 0.5):.2f} s, p95 {nearest_rank(values, 0.95):.2f} s")
    if args.profile:
        profile_report(args.profile, leads)


if __name__ == "__main__":
    main()
