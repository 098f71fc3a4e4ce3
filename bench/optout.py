#!/usr/bin/env python
"""Opt-outs as people write them, through the real Twilio SMS webhook and the pipeline, and how fast STOP acts.

Starts the stack on loopback (gunicorn, 2 workers; one qcluster; PostgreSQL; the ORM broker; the locmem SMS
backend), with Twilio's signature check on. Two measurements:

1. Recognition, per reasoning provider: every row of tests/data/optout_set.jsonl is texted from its own number
   as a signed Twilio callback; what the system did is read back from the database: opted out (the number is
   on the suppression list), held for a person (a model's reading, or words to weigh), or nothing. Prints recall
   on keywords and sentences, false opt-outs (rows that must not opt out), and what review rows became.
   Target: recall 1.0 on keywords and sentences, 0 false opt-outs; a model-only opt-out is held, never acted on.
2. STOP under load: leads arrive at --rate a second through the API (speed_to_lead's load) while existing leads
   text STOP; for each STOP, the time from the webhook's arrival (the stored delivery's received_at) to every
   waiting action cancelled (asserted: in the same transaction as the opt-out record) and to its one
   confirmation handed to the SMS backend (the Message's sent_at). Target: p95 < 2 s.

    .venv/bin/python bench/optout.py [--providers rules,embedding|none] [--rate 50] [--stops 60]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/nightshift_bench).
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
import sys  # noqa: E402

sys.path.insert(0, str(ROOT))
from bench.common import nearest_rank  # noqa: E402
from bench.ingest import free_port, start_cluster, start_server  # noqa: E402
from bench.speed_to_lead import post_at_rate, prepare, stack_env  # noqa: E402

TOKEN = "bench-twilio-auth-token"
ROWS = [json.loads(line) for line in (ROOT / "tests/data/optout_set.jsonl").read_text().splitlines()[1:]]
AT_ONCE = {"keyword", "keyword_noise", "lookalike", "es", "fr", "de", "sentence"}


def env_for(provider: str, port: int) -> dict:
    return {
        **stack_env("orm"),
        "LLM_PROVIDER": provider,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": "ACbench",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }


def stop(web, cluster) -> None:
    """gunicorn by its group; the cluster by its own PID (it stops its workers itself; a group signal races that)."""
    os.killpg(web.pid, signal.SIGTERM)
    cluster.send_signal(signal.SIGTERM)
    for proc in (web, cluster):
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def text(port: int, sender: str, body: str, sid: str) -> int:
    from twilio.request_validator import RequestValidator

    params = {"MessageSid": sid, "AccountSid": "ACbench", "From": sender, "To": "+15125550000", "Body": body}
    url = f"http://127.0.0.1:{port}/integrations/twilio/sms/"
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        "/integrations/twilio/sms/",
        body=urllib.parse.urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    response = conn.getresponse()
    response.read()
    return response.status


def settle(seconds: float = 300) -> None:
    """Wait until the workers have captured every stored webhook and processed every event (or ``seconds`` pass)."""
    from integrations.models import InboundWebhook
    from leads.models import InboundEvent

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (
        InboundWebhook.objects.filter(status=InboundWebhook.Status.RECEIVED).exists()
        or InboundEvent.objects.filter(processed_at=None).exists()
    ):
        time.sleep(0.5)


def outcome(sender: str) -> str:
    from leads.models import Lead, Suppression

    if Suppression.objects.filter(channel="sms", address=sender).exists():
        return "opted_out"
    lead = Lead.objects.filter(phone=sender).first()
    return "held" if lead is not None and lead.consent_hold else "nothing"


def recognition(provider: str) -> dict:
    prepare("orm")
    port = free_port()
    env = env_for(provider, port)
    web, cluster = start_server(port, 2, env), start_cluster(env)
    try:
        for n, row in enumerate(ROWS):
            assert text(port, f"+1512{6_000_000 + n:07d}", row["text"], f"SMoptout{n}") == 200
        settle()
        results = [(row, outcome(f"+1512{6_000_000 + n:07d}")) for n, row in enumerate(ROWS)]
    finally:
        stop(web, cluster)
    must = [(r, o) for r, o in results if r["expect"] == "opt_out" and r["kind"] in AT_ONCE]
    never = [(r, o) for r, o in results if r["expect"] in ("none", "review", "help", "opt_in")]
    return {
        "provider": provider,
        "recall": sum(o == "opted_out" for _, o in must) / len(must),
        "missed": [r["text"] for r, o in must if o != "opted_out"],
        "false_opt_outs": [r["text"] for r, o in never if o == "opted_out"],
        "review": Counter(o for r, o in results if r["expect"] == "review"),
        "held_never_opted_out": sum(o == "held" for _, o in never),
        "n": len(results),
    }


def stop_under_load(rate: int, stops: int) -> dict:
    key = prepare("orm")
    from django.contrib.auth import get_user_model

    from approvals.models import Action, Policy
    from approvals.services import policy_update

    manager = get_user_model().objects.get(username="manager")
    port = free_port()
    env = env_for("rules", port)
    senders = [f"+1512{7_000_000 + n:07d}" for n in range(stops)]
    # First the STOP leads, whose first answers wait for a person, so each STOP has something to cancel...
    policy_update(workflow="first_response", user=manager, mode=Policy.Mode.DRAFT, reason="bench")
    web, cluster = start_server(port, 2, env), start_cluster(env)
    try:
        for n, sender in enumerate(senders):
            text(port, sender, "Hi, I need a roof quote in 30301", f"SMlead{n}")
        settle()
    finally:
        stop(web, cluster)
    # ...then speed_to_lead's load (first answers on auto) while those leads text STOP, two a second.
    policy_update(workflow="first_response", user=manager, mode=Policy.Mode.AUTO, reason="bench")
    web, cluster = start_server(port, 2, env), start_cluster(env)
    try:
        load = threading.Thread(target=post_at_rate, args=(port, key, rate, max(10, stops // 2 + 5), 0, "load"))
        load.start()
        start = time.monotonic()
        for n, sender in enumerate(senders):
            time.sleep(max(0.0, start + n / 2 - time.monotonic()))
            text(port, sender, "STOP", f"SMstop{n}")
        load.join()
        settle()
        return _stop_figures(senders, Action)
    finally:
        stop(web, cluster)


def _stop_figures(senders: list[str], Action) -> dict:
    from django.db import connection

    from integrations.models import InboundWebhook
    from leads.models import ConsentRecord, Message

    def writer(table: str, pk: int) -> str:
        # PostgreSQL's xmin: the id of the transaction that wrote the row's current version.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT xmin::text FROM {table} WHERE id = %s", [pk])  # noqa: S608 - our table names
            return cursor.fetchone()[0]

    handed, same_transaction = [], 0
    for sender in senders:
        stop = InboundWebhook.objects.get(external_id__startswith="SMstop", payload__From=sender)
        record = ConsentRecord.objects.get(phone=sender, kind="opt_out")
        cancelled = list(Action.objects.filter(lead__phone=sender, status="cancelled").values_list("pk", flat=True))
        opt_out_transaction = writer("leads_consentrecord", record.pk)
        same_transaction += bool(cancelled) and all(
            writer("approvals_action", pk) == opt_out_transaction for pk in cancelled
        )
        confirmation = Message.objects.filter(to=sender, action__workflow="opt_out_confirmation").first()
        if confirmation is not None and confirmation.sent_at:
            handed.append((confirmation.sent_at - stop.received_at).total_seconds())
    return {
        "stops": len(senders),
        "confirmed": len(handed),
        "cancelled_in_the_same_transaction": same_transaction,
        "p50": nearest_rank(handed, 0.5),
        "p95": nearest_rank(handed, 0.95),
        "max": max(handed, default=float("nan")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--providers", default="rules,embedding")
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--stops", type=int, default=60)
    args = parser.parse_args()
    print(f"{len(ROWS)} labeled replies ({Counter(r['expect'] for r in ROWS)})")
    for provider in [p for p in args.providers.split(",") if p and p != "none"]:
        row = recognition(provider)
        print(
            f"{provider:10} recall (keywords, sentences) {row['recall']:.3f}  false opt-outs "
            f"{len(row['false_opt_outs'])}  review -> {dict(row['review'])}  held among never-opt-out rows "
            f"{row['held_never_opted_out']}"
        )
        for missed in row["missed"]:
            print(f"    missed: {missed!r}")
        for wrong in row["false_opt_outs"]:
            print(f"    FALSE OPT-OUT: {wrong!r}")
    figures = stop_under_load(args.rate, args.stops)
    verdict = "MET" if figures["p95"] < 2 and figures["confirmed"] == figures["stops"] else "NOT MET"
    print(
        f"STOP at {args.rate} leads/s: {figures['confirmed']}/{figures['stops']} confirmed; cancellations in the "
        f"opt-out's transaction {figures['cancelled_in_the_same_transaction']}/{figures['stops']}; STOP -> "
        f"confirmation handed to the provider p50 {figures['p50']:.3f} s, p95 {figures['p95']:.3f} s, max "
        f"{figures['max']:.3f} s ({verdict}: p95 < 2 s)"
    )


if __name__ == "__main__":
    main()
