#!/usr/bin/env python
"""Routing cost per lead: 200 rules, 100 reps, PostgreSQL; with 1k and then 100k stored leads.

Builds a fresh database, ten teams of ten reps (working hours, capacities, weights, skills,
territories by US state), and 200 active rules whose conditions test region, score, channel,
message (regex), budget and a custom payload field, spread over every strategy, with a catch-all
last. Then routes leads one by one through ``routing.services.lead_route`` (each in its own
transaction, with the team row locks, the assignment, the lead update and the Decision) and prints
p50/p95/max milliseconds per decision and leads/s, and the median by the number of rules tried.

    .venv/bin/python bench/routing.py [--leads 5000] [--stored 1000 100000]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench_routing).
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import database_migrate, django_setup  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nightshift_bench_routing")
STATES = ["TX", "CA", "FL", "NY", "GA", "IL", "OH", "NC", "MI", "WA", "AZ", "CO", "OR", "NV", "UT", "MN"]
STRATEGIES = ["round_robin", "weighted_round_robin", "least_loaded"]
CLOSED = ["won", "lost", "unqualified", "spam"]


def build_directory(rng: random.Random) -> None:
    from django.contrib.auth import get_user_model

    from leads.conditions import parse_lines
    from routing.models import Rep, RoutingRule, Team, Territory, WorkingHours

    User = get_user_model()
    teams = [Team.objects.create(name=f"Team {t}", is_fallback=t == 0, sla_minutes=15) for t in range(10)]
    for n in range(100):
        user = User.objects.create(username=f"rep{n}", first_name=f"Rep{n}")
        rep = Rep.objects.create(
            user=user,
            team=teams[n % 10],
            weight=1 + n % 3,
            capacity=None if n % 4 else 400,
            languages="en, es" if n % 5 == 0 else "en",
            product_lines="roofing, solar" if n % 2 else "roofing",
        )
        WorkingHours.objects.bulk_create(
            [WorkingHours(rep=rep, weekday=d, start=clock(0), end=clock(23, 59)) for d in range(7)]
        )
        Territory.objects.create(kind="region", code=f"US-{STATES[n % len(STATES)]}", rep=rep)
    for i in range(199):
        state = STATES[i % len(STATES)]
        lines = [f"region is US-{state}", f"score > {40 + i % 50}"]
        if i % 3 == 0:
            lines.append("message matches (roof|gutter|solar)")
        if i % 5 == 0:
            lines.append(f"budget between {1000 * (i % 7)} and {1000 * (i % 7) + 20000}")
        if i % 7 == 0:
            lines.append("payload.product is solar")
        RoutingRule.objects.create(
            name=f"Rule {i}",
            priority=i + 1,
            conditions=parse_lines("\n".join(lines)),
            team=teams[i % 10],
            strategy=STRATEGIES[i % 3],
            by_territory=i % 4 == 0,
            by_skills=i % 6 == 0,
            by_account_owner=i % 8 == 0,
        )
    RoutingRule.objects.create(name="Catch-all", priority=10_000, team=teams[0])


def store_leads(total: int, rng: random.Random) -> None:
    """Bring the stored leads up to ``total``: history, mostly closed, 5% still open with an owner."""
    from django.contrib.auth import get_user_model

    from leads.models import Lead

    users = list(get_user_model().objects.values_list("pk", flat=True))
    have = Lead.objects.count()
    batch = []
    for n in range(have, total):
        open_ = rng.random() < 0.05
        batch.append(
            Lead(
                phone=f"+1202{n:07d}",
                email=f"history{n}@example{n % 500}.com",
                email_domain=f"example{n % 500}.com",  # bulk_create skips Lead.save, which keeps it in step
                company=f"Company {n % 2000}",
                stage="new" if open_ else rng.choice(CLOSED),
                owner_id=rng.choice(users),
                region=f"US-{rng.choice(STATES)}",
            )
        )
        if len(batch) == 5000:
            Lead.objects.bulk_create(batch)
            batch = []
    Lead.objects.bulk_create(batch)


def route_leads(count: int, rng: random.Random, tag: str) -> tuple[list[float], list[int], list[float]]:
    from audit.models import Decision
    from leads.models import InboundEvent, Lead
    from routing.directory import routing_config
    from routing.engine import choose_rule
    from routing.services import lead_facts, lead_route

    leads = Lead.objects.bulk_create(
        [
            Lead(
                phone=f"+1303{tag}{n:06d}",
                email=f"new{tag}{n}@example{n % 700}.com",
                email_domain=f"example{n % 700}.com",
                company=f"Company {n % 3000}" if n % 3 else "",
                region=f"US-{rng.choice(STATES + ['ZZ'])}",
                country="US",
                score=rng.randint(0, 100),
            )
            for n in range(count)
        ]
    )
    timings, matching = [], []
    config = routing_config()
    for lead in leads:
        message = rng.choice(["new roof please", "gutter cleaning", "solar panels quote", "hello"])
        event = InboundEvent(
            channel=rng.choice(["sms", "form", "email"]),
            source="bench",
            message=message,
            payload={"product": rng.choice(["solar", "roofing"])},
        )
        qualification = {"intent": "quote_request", "budget_amount": rng.choice([None, 5000, 15000, 40000])}
        facts = lead_facts(lead, qualification, event)
        started = time.perf_counter()
        choose_rule(facts, config.specs, config.compiled)
        matching.append((time.perf_counter() - started) * 1_000_000)
        started = time.perf_counter()
        lead_route(lead=lead, facts=facts)
        timings.append((time.perf_counter() - started) * 1000)
    outputs = dict(
        Decision.objects.filter(lead__in=leads, step="route")
        .exclude(outcome="skipped")
        .values_list("lead_id", "output")
    )
    tried = [outputs[lead.pk].get("rules_tried", 0) for lead in leads]
    return timings, tried, matching


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--stored", type=int, nargs="+", default=[1000, 100_000])
    args = parser.parse_args()
    rng = random.Random(42)
    database_migrate(DB_URL)
    django_setup(DB_URL)
    build_directory(rng)
    from django.db import connection

    from leads.models import Lead
    from routing.directory import routing_config

    routing_config()  # the first lead of a process builds the snapshot; every later one reuses it
    print(f"PostgreSQL {connection.pg_version // 10000}, 200 rules, 100 reps, {args.leads} leads per run\n")
    print("Per decision: the whole lead_route transaction (locks, reads, assignment, lead, Decision, commit).")
    print("By rules tried: median ms of the decision / median microseconds of rule matching alone.\n")
    print(f"{'stored leads':>12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'leads/s':>9}   by rules tried")
    for n, stored in enumerate(args.stored):
        store_leads(stored, rng)
        with connection.cursor() as cursor:
            # What autovacuum does after a bulk load: statistics and the visibility map that lets
            # the open-lead counts run as index-only scans.
            cursor.execute("VACUUM ANALYZE")
        present = Lead.objects.count()
        timings, tried, matching = route_leads(args.leads, rng, tag=str(n))
        buckets = {}
        for t, ms, us in zip(tried, timings, matching, strict=True):
            buckets.setdefault(min((t - 1) // 50, 3), []).append((ms, us))
        by_tried = "  ".join(
            f"{b * 50 + 1}-{b * 50 + 50}: {statistics.median(m for m, _ in v):.2f}/"
            f"{statistics.median(u for _, u in v):.0f}µs"
            for b, v in sorted(buckets.items())
        )
        print(
            f"{present:>12} {percentile(timings, 50):>8.2f} {percentile(timings, 95):>8.2f} "
            f"{max(timings):>8.2f} {len(timings) / (sum(timings) / 1000):>9.0f}   {by_tried}"
        )


if __name__ == "__main__":
    main()
