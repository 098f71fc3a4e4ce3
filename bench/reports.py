#!/usr/bin/env python
"""Every report over 1,000,000 leads in PostgreSQL: the time each takes for a 90-day window.

Seeds, with INSERT … SELECT over generate_series (seconds, not hours), a year of 1,000,000 leads
spread evenly, each with its inbound event, its assignment (3% breached), its first-response
action (sent, edited, rejected, waiting or shadow) and decision (30% from a model, with tokens),
its sent first response when it had one (answered in seconds to hours, 12% never), missed calls
for 3%, and 200,000 cadence enrollments with 400,000 step runs. Runs ANALYZE (as autovacuum
would), then times each report through the same functions the portal calls (and the log page
and /metrics through Django's test client), three times after a warm-up, and prints the median.
Target: every report under 1 s for a 90-day window.

    .venv/bin/python bench/reports.py [--leads 1000000] [--days 90] [--keep]

--keep reuses the seeded database of a previous run. Environment: BENCH_DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/nightshift_bench_reports).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import database_migrate, django_setup  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nightshift_bench_reports")
os.environ.setdefault("METRICS_TOKEN", "bench")

# Parenthesized: PostgreSQL subscripts an array literal only in parentheses.
CHANNELS = "(ARRAY['form','sms','call','email','chat','ad','marketplace','api'])"
SOURCES = "(ARRAY['website-quote','twilio-main','google-ads','facebook','angi','thumbtack','crm','referral'])"
STAGES = "(ARRAY['new','contacted','qualified','quoted','appointment','won','lost','unqualified','spam'])"


def insert_select(model, values: dict[str, str], source: str) -> str:
    """INSERT INTO the model's table SELECT ``values`` (SQL by field name) FROM ``source``; other columns default."""
    from django.db import models

    columns, expressions = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(f'"{f.column}"')
        if f.name in values:
            expressions.append(values[f.name])
        elif f.null:
            expressions.append("NULL")
        elif isinstance(f, models.JSONField):
            expressions.append("'[]'::jsonb" if f.default is list else "'{}'::jsonb")
        elif isinstance(f, models.BooleanField):
            expressions.append("true" if f.default is True else "false")
        elif isinstance(f, models.DateTimeField):
            expressions.append("now()")
        elif isinstance(f, models.IntegerField | models.FloatField | models.DecimalField):
            expressions.append(str(f.default if f.has_default() and not callable(f.default) else 0))
        else:
            expressions.append(f"'{f.default}'" if f.has_default() and isinstance(f.default, str) else "''")
    return f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {source}"


def seed(count: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from approvals.models import Action
    from audit.models import Decision
    from leads.models import InboundEvent, Lead, Message
    from routing.models import Assignment, Cadence, Enrollment, Rep, StepRun

    call_command("seed_demo", "--force", verbosity=0)
    owners = list(
        get_user_model().objects.filter(username__startswith="rep").order_by("pk").values_list("pk", flat=True)
    )
    rep_ids = list(Rep.objects.order_by("user_id").values_list("pk", flat=True))
    cadence_id = Cadence.objects.get(name="Quote follow-up").pk
    owner_array = f"(ARRAY{owners})"
    # Per lead g: arrival spread over a year; answer times from seconds to hours; 12% never answered.
    lead_source = f"""(SELECT g, now() - (g::float / {count}) * interval '365 days' AS arrived,
        CASE WHEN g % 25 = 0 THEN NULL
             WHEN g % 8 = 0 THEN ((g * 7919) % 7200) * interval '1 second'
             ELSE ((g * 7919) % 240 + 5) * interval '1 second' END AS answer,
        {STAGES}[1 + (g * 31) % 9] AS stage, {CHANNELS}[1 + (g * 17) % 8] AS channel,
        {SOURCES}[1 + (g * 13) % 8] AS source
        FROM generate_series(1::bigint, {count}::bigint) g) s"""
    rank = "CASE s.stage WHEN 'new' THEN 1 WHEN 'contacted' THEN 2 WHEN 'qualified' THEN 3 WHEN 'quoted' THEN 4 " \
           "WHEN 'appointment' THEN 5 WHEN 'won' THEN 6 ELSE 1 + (s.g % 5) END"  # fmt: skip
    statements = [
        insert_select(
            Lead,
            {
                "name": "'Lead ' || s.g",
                "phone": "'+1512' || lpad(s.g::text, 7, '0')",
                "country": "'US'",
                "timezone": "'America/Chicago'",
                "stage": "s.stage",
                "owner": f"{owner_array}[1 + s.g % {len(owners)}]",
                "score": "(s.g * 7) % 100",
                "first_response_at": "s.arrived + s.answer",
                "channel": "s.channel",
                "source": "s.source",
                "funnel_rank": rank,
                "last_outbound_at": "s.arrived + s.answer",
                "created_at": "s.arrived",
                "updated_at": "s.arrived",
            },
            lead_source,
        ),
        insert_select(
            InboundEvent,
            {
                "lead": "l.id",
                "channel": "l.channel",
                "source": "l.source",
                "message": "'Need a quote for a new roof'",
                "received_at": "l.created_at",
                "lead_created": "true",
                "processed_at": "l.created_at",
                "created_at": "l.created_at",
            },
            "leads_lead l",
        ),
        insert_select(
            Assignment,
            {
                "lead": "l.id",
                "rep": f"(ARRAY{rep_ids})[1 + l.id % {len(rep_ids)}]",
                "reason": "'round-robin'",
                "breached_at": "CASE WHEN l.id % 33 = 0 THEN l.created_at + interval '15 minutes' END",
                "created_at": "l.created_at",
            },
            "leads_lead l",
        ),
        insert_select(
            Action,
            {
                "lead": "l.id",
                "workflow": "'first_response'",
                "kind": "'send_sms'",
                "payload": """jsonb_build_object('to', l.phone, 'body', 'Hi, thanks for reaching out!')""",
                "status": "(ARRAY['done','done','done','done','rejected','pending','shadow','failed'])[1 + l.id % 8]",
                "confidence": "0.8",
                "escalated": "l.id % 8 = 5",
                "escalation_reason": "CASE WHEN l.id % 8 = 5 THEN 'confidence 0.55 < 0.70' ELSE '' END",
                "decided_by": f"CASE WHEN l.id % 3 = 0 THEN {owner_array}[1 + l.id % {len(owners)}] END",
                "edited": "l.id % 6 = 0",
                "created_at": "l.created_at",
                "updated_at": "l.created_at",
            },
            "leads_lead l",
        ),
        insert_select(
            Decision,
            {
                "lead": "l.id",
                "step": "'qualify'",
                "actor_type": "CASE WHEN l.id % 10 < 3 THEN 'model' ELSE 'system' END",
                "reasoning": "'Looks like a quote request; score 72 vs threshold 50: qualified.'",
                "confidence": "0.8",
                "duration_ms": "CASE WHEN l.id % 10 < 3 THEN 400 + l.id % 900 ELSE 2 END",
                "model": "CASE WHEN l.id % 10 < 3 THEN 'gpt-4o-mini' ELSE '' END",
                "tokens_in": "CASE WHEN l.id % 10 < 3 THEN 600 END",
                "tokens_out": "CASE WHEN l.id % 10 < 3 THEN 90 END",
                "created_at": "l.created_at",
            },
            "leads_lead l",
        ),
        insert_select(
            Message,
            {
                "lead": "l.id",
                "action": "a.id",
                "direction": "'out'",
                "channel": "'sms'",
                "to": "l.phone",
                "body": "'Hi, thanks for reaching out!'",
                "status": "'delivered'",
                "provider_id": "'SM' || l.id",
                "sent_at": "l.first_response_at",
                "created_at": "l.first_response_at",
            },
            "leads_lead l JOIN approvals_action a ON a.lead_id = l.id AND a.status = 'done' "
            "WHERE l.first_response_at IS NOT NULL",
        ),
        insert_select(
            Message,
            {
                "lead": "l.id",
                "direction": "'in'",
                "channel": "'call'",
                "to": "'+15125550100'",
                "body": "'Missed call'",
                "status": "'missed'",
                "created_at": "l.created_at + interval '2 hours'",
            },
            "leads_lead l WHERE l.id % 33 = 7",
        ),
        insert_select(
            Enrollment,
            {
                "cadence": str(cadence_id),
                "lead": "l.id",
                "status": "(ARRAY['completed','stopped','stopped','active'])[1 + l.id % 4]",
                "stop_kind": "CASE l.id % 4 WHEN 1 THEN 'reply' WHEN 2 THEN 'opt_out' ELSE '' END",
                "position": "2",
                "next_run_at": "CASE WHEN l.id % 4 = 3 THEN l.created_at + interval '3 days' END",
                "started_at": "l.created_at",
                "created_at": "l.created_at",
                "updated_at": "l.created_at",
            },
            "leads_lead l WHERE l.id % 5 = 0",
        ),
    ]
    runs = []
    for position, status in ((0, "proposed"), (1, "skipped")):
        runs.append(
            insert_select(
                StepRun,
                {
                    "enrollment": "e.id",
                    "position": str(position),
                    "status": f"'{status}'",
                    "action": "a.id" if status == "proposed" else "NULL",
                    "replied_at": "CASE WHEN e.id % 7 = 0 THEN e.started_at + interval '1 day' END",
                    "created_at": f"e.started_at + interval '{position + 1} days'",
                },
                "routing_enrollment e JOIN approvals_action a ON a.lead_id = e.lead_id",
            )
        )
    with connection.cursor() as cursor:
        for sql in statements + runs:
            started = time.perf_counter()
            cursor.execute(sql)
            table = sql.split()[2]
            print(f"  {table:<28} {cursor.rowcount:>9,} rows  {time.perf_counter() - started:6.1f} s")
        cursor.execute("VACUUM ANALYZE")


def timed(call, repeat: int = 3) -> tuple[float, object]:
    call()  # warm-up: the first run pays for cold caches
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--keep", action="store_true", help="reuse the database a previous run seeded")
    args = parser.parse_args()
    if not args.keep:
        database_migrate(DB_URL)
    django_setup(DB_URL)
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.test import Client

    from audit import reports

    if not args.keep:
        print(f"seeding {args.leads:,} leads over a year:")
        started = time.perf_counter()
        seed(args.leads)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    period = reports.Period.last_days(args.days)
    baseline = reports.Period.last_days(365)
    baseline = reports.Period(baseline.since, baseline.since + (period.until - period.since))
    manager = Client()
    manager.force_login(get_user_model().objects.get(username="manager"))
    window = f"from={period.first_day}&to={period.last_day}"
    checks = {
        "speed to lead (6 groupings)": lambda: reports.speed_to_lead(period),
        "funnel (all, by source, by channel)": lambda: [
            reports.funnel(period, by=by) for by in ("", "source", "channel")
        ],
        "follow-up completion": lambda: reports.follow_up(period),
        "leaks (5 counts)": lambda: reports.leaks(period),
        "leak list: slow, first page": lambda: list(reports.leak_leads("slow", period)[:50]),
        "leak list: missed calls, first page": lambda: list(reports.leak_leads("missed_calls", period)[:50]),
        "AI quality": lambda: reports.ai_quality(period),
        "ROI (baseline vs now)": lambda: reports.roi(
            baseline=baseline,
            current=period,
            close_rate=Decimal(20),
            deal_value=Decimal(5000),
            monthly_cost=Decimal(500),
        ),
        "page: /portal/reports/speed/": lambda: manager.get(f"/portal/reports/speed/?{window}"),
        "page: /portal/reports/leaks/slow/": lambda: manager.get(f"/portal/reports/leaks/slow/?{window}"),
        "page: /portal/log/?step=qualify&actor=model": lambda: manager.get("/portal/log/?step=qualify&actor=model"),
        "/metrics": lambda: Client().get("/metrics", headers={"Authorization": "Bearer bench"}),
    }
    print(f"\n{args.days}-day window {period.label}, {args.leads:,} leads in all")
    print(f"{'report':<44} {'ms (median of 3)':>16}")
    slowest = 0.0
    for name, call in checks.items():
        ms, result = timed(call)
        status = getattr(result, "status_code", None)
        assert status in (None, 200), f"{name} answered {status}"
        slowest = max(slowest, ms)
        print(f"{name:<44} {ms:>16.0f}")
    print(f"\nslowest: {slowest:.0f} ms -> {'OK' if slowest < 1000 else 'over the 1 s target'}")


if __name__ == "__main__":
    main()
