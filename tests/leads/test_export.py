"""Exporting a person (leads.services.export): every kind of row held about them, as JSON, logged."""

import json
from datetime import datetime

import pytest

from audit.models import Decision
from leads.services import person_export
from tests.conftest import user
from tests.people import EMAIL, NAME, PHONE

pytestmark = pytest.mark.django_db

# Every section the scenario fills: a kind of row missing from the export fails here.
FILLED = {
    "leads",
    "lead_history",
    "events",
    "messages",
    "appointments",
    "appointment_history",
    "consent_records",
    "suppressions",
    "decisions",
    "admin_log",
    "actions",
    "action_history",
    "inbound_webhooks",
    "webhook_deliveries",
    "webhook_attempts",
    "chat_sessions",
    "assignments",
    "assignment_history",
    "enrollments",
    "intent_examples",
}


def test_the_export_holds_every_kind_of_row_about_the_person(everywhere):
    lead = everywhere
    manager = user("manager")

    export = person_export(phone=PHONE, user=manager, reason="access request 7")

    assert json.loads(json.dumps(export)) == export
    assert datetime.fromisoformat(export["generated_at"])
    assert export["person"] == {"phones": [PHONE], "emails": [EMAIL], "lead_ids": [lead.pk]}
    empty = sorted(name for name in FILLED if not export[name])
    assert empty == []
    assert export["counts"] == {name: len(export[name]) for name in export["counts"]}
    assert set(export["counts"]) >= FILLED | {"step_runs"}
    [row] = export["leads"]
    assert (row["name"], row["phone"], row["email"]) == (NAME, PHONE, EMAIL)
    # Raw payloads, as received.
    assert any(e["payload"].get("contact", {}).get("email") == EMAIL for e in export["events"])
    assert {w["payload"]["Body"] for w in export["inbound_webhooks"]} == {"Yes 4 works", "STOP"}
    assert any("wombat" in m["body"] for m in export["messages"])
    # Credentials and blobs are left out.
    assert "token" not in export["chat_sessions"][0]
    assert "vector" not in export["intent_examples"][0]
    # Logged, after it was gathered (the export does not contain itself), without the person.
    decision = Decision.objects.get(step=Decision.Step.PRIVACY)
    assert (decision.lead_id, decision.actor, decision.output["kind"]) == (lead.pk, manager, "exported")
    assert decision.output["counts"] == export["counts"]
    assert "access request 7" in decision.reasoning and NAME not in decision.reasoning
    assert not any(d["step"] == "privacy" for d in export["decisions"])


def test_the_same_person_by_email_and_nobody_at_all(demo, capture):
    lead = capture(phone=PHONE, email=EMAIL, message="Roof quote").json()["lead"]
    assert person_export(email=EMAIL.upper())["person"]["lead_ids"] == [lead]
    nobody = person_export(email="nobody@example.com")
    assert nobody["person"]["lead_ids"] == [] and set(nobody["counts"].values()) == {0}
