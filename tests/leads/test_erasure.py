"""Forgetting a person (leads.services.erasure): gone from every table, a tombstone kept, an opt-out kept by digest."""

import logging

import pytest
from django.core.exceptions import ValidationError

from approvals.models import Action
from approvals.services.execution import action_execute
from audit.models import Decision
from audit.periods import Period
from audit.reports import funnel
from integrations import channels
from integrations.models import ChatSession, InboundWebhook, WebhookDelivery
from leads.models import ConsentRecord, Lead, Suppression, contact_digest
from leads.privacy import FORGOTTEN, FORGOTTEN_NAME
from leads.services import person_forget, sms_words_consent
from routing.models import IntentExample
from tests.conftest import user
from tests.people import EMAIL, HELD_IN, NAME, NEEDLES, PHONE, mentions

pytestmark = pytest.mark.django_db


def test_the_person_is_gone_from_every_text_column_of_every_table(everywhere, capture):
    other = capture(name="Ada Byron", phone="+15128670300", message="Roof quote").json()["lead"]
    bystander = Lead.objects.get(pk=other)
    held = mentions()
    assert set(held) >= HELD_IN, f"the scenario no longer reaches {HELD_IN - set(held)}"

    result = person_forget(phone="(512) 867-0199", user=user("manager"), reason="erasure request 42")

    # The walk covers every model Django knows (history tables, the admin's log, the libraries' tables).
    assert mentions() == {}
    assert result.lead_ids == [everywhere.pk]
    assert result.counts["events"] == 2 and result.counts["messages"] == 3 and result.counts["inbound_webhooks"] == 2
    assert not ChatSession.objects.exists()
    assert not IntentExample.objects.filter(lead=everywhere).exists()
    # Someone else's rows are untouched.
    bystander.refresh_from_db()
    assert (bystander.name, bystander.phone) == ("Ada Byron", "+15128670300")
    assert bystander.events.get().message == "Roof quote"
    assert mentions(("Ada Byron",))["leads.Lead"] == {"name"}


def test_the_lead_stays_as_a_tombstone_that_reports_still_count(everywhere):
    before = Lead.objects.get(pk=everywhere.pk)
    period = Period.last_days(7)
    counted = funnel(period)
    by_source = funnel(period, by="source")
    events, messages, actions = before.events.count(), before.messages.count(), before.actions.count()

    person_forget(email=EMAIL)

    after = Lead.objects.get(pk=everywhere.pk)
    assert after.name == FORGOTTEN_NAME and str(after) == FORGOTTEN_NAME
    assert (after.phone, after.email, after.company, after.postal_code, after.email_domain) == ("", "", "", "", "")
    assert after.forgotten_at is not None and after.enrichment == {}
    kept = ("stage", "owner_id", "channel", "source", "score", "created_at", "first_response_at", "opted_out")
    assert {f: getattr(after, f) for f in kept} == {f: getattr(before, f) for f in kept}
    assert after.qualification["intent"] == before.qualification["intent"]
    assert after.qualification["reasoning"] == FORGOTTEN
    assert funnel(period) == counted and funnel(period, by="source") == by_source
    # Rows are kept (counts, times, statuses), blanked.
    assert (after.events.count(), after.messages.count(), after.actions.count()) == (events, messages, actions)
    assert set(after.messages.values_list("body", flat=True)) == {FORGOTTEN}
    assert all(e.payload == {} and e.message == "" for e in after.events.all())
    assert all(h.name == FORGOTTEN_NAME and h.phone == "" for h in after.history.all())
    # Nothing waits to go to a tombstone: CRM deliveries still pending were stopped.
    assert not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exists()
    assert all(row.payload == {} for row in InboundWebhook.objects.all())


def test_consent_records_are_anonymised_not_deleted(everywhere):
    records = list(ConsentRecord.objects.order_by("pk"))
    assert {r.kind for r in records} == {"opt_in", "opt_out", "confirmation"}

    person_forget(phone=PHONE)

    after = list(ConsentRecord.objects.order_by("pk"))
    assert [(r.pk, r.kind, r.channel, r.how, r.created_at) for r in after] == [
        (r.pk, r.kind, r.channel, r.how, r.created_at) for r in records
    ]
    for record in after:
        assert record.phone == contact_digest(PHONE)
        assert record.email in ("", contact_digest(EMAIL))
        assert (record.words, record.ip, record.user_agent, record.page_url) == ("", None, "", "")
    # The one sanctioned change is idempotent; every other change is still refused.
    assert ConsentRecord.objects.all().anonymise() == len(after)
    assert ConsentRecord.objects.first().phone == contact_digest(PHONE)
    with pytest.raises(PermissionError):
        ConsentRecord.objects.update(words="x")
    with pytest.raises(PermissionError):
        ConsentRecord.objects.all().delete()
    with pytest.raises(PermissionError):
        after[0].save()


def test_an_opted_out_person_is_never_texted_again_whoever_they_come_back_as(demo, capture, sms_outbox):
    old = Lead.objects.get(pk=capture(phone=PHONE, name=NAME, message="Roof quote").json()["lead"])
    sms_words_consent(phone=PHONE, body="STOP", reference="SM9")
    person_forget(phone=PHONE)
    suppression = Suppression.objects.get(channel="sms")
    assert (suppression.address, suppression.digest) == ("", contact_digest(PHONE))

    again = Lead.objects.get(pk=capture(phone="512-867-0199", message="Hello again").json()["lead"])
    assert again.pk != old.pk
    assert again.opted_out, "a new lead from a suppressed number starts opted out"
    with pytest.raises(channels.OptedOut):
        channels.send_sms(to=PHONE, body="anything")
    # Even without the lead's flag, the executor refuses by the suppression list's digest.
    Lead.objects.filter(pk=again.pk).update(opted_out=False)
    sent = len(sms_outbox)
    action = Action.objects.create(
        lead=again,
        workflow="follow_up",
        kind=Action.Kind.SEND_SMS,
        payload={"to": PHONE, "body": "Still interested?"},
        status=Action.Status.APPROVED,
    )
    assert action_execute(action_id=action.pk) is None
    action.refresh_from_db()
    assert action.status == Action.Status.CANCELLED and "opted out" in action.error
    assert len(sms_outbox) == sent


def test_a_person_who_never_opted_out_may_come_back_as_a_new_lead(demo, capture):
    capture(phone=PHONE, name=NAME, message="Roof quote")
    result = person_forget(phone=PHONE)
    assert result.suppressed == [] and not Suppression.objects.exists()

    again = Lead.objects.get(pk=capture(phone=PHONE, message="Me again").json()["lead"])
    assert again.pk not in result.lead_ids and not again.opted_out
    assert channels.send_sms(to=PHONE, body="Welcome back").provider_id


def test_forgetting_is_logged_without_the_person_and_cancels_what_waits(demo, capture, caplog):
    lead = Lead.objects.get(pk=capture(phone=PHONE, name=NAME, message="Roof quote for the wombat").json()["lead"])
    waiting = Action.objects.get(lead=lead, status=Action.Status.PENDING)
    manager = user("manager")
    with caplog.at_level(logging.INFO, logger="leads.services.erasure"):
        result = person_forget(phone=PHONE, user=manager, reason=f"Request from {NAME} by email")

    waiting.refresh_from_db()
    assert waiting.status == Action.Status.CANCELLED and waiting.body == FORGOTTEN
    [decision] = result.decisions
    decision = Decision.objects.get(pk=decision.pk)
    assert (decision.step, decision.lead_id, decision.actor, decision.actor_type) == (
        Decision.Step.PRIVACY,
        lead.pk,
        manager,
        Decision.ActorType.PERSON,
    )
    assert decision.output["kind"] == "forgotten" and decision.output["counts"]["leads"] == 1
    assert "Request from [forgotten] by email" in decision.reasoning
    assert not any(needle.lower() in str(decision.output).lower() + decision.reasoning.lower() for needle in NEEDLES)
    [line] = [r for r in caplog.records if r.message == "person.forgotten"]
    assert line.lead_ids == [lead.pk] and line.user_id == manager.pk


def test_a_phone_and_an_email_forget_both_their_leads(demo, capture):
    by_phone = capture(phone=PHONE, message="Roof quote").json()["lead"]
    by_email = capture(email=EMAIL, message="Roof quote").json()["lead"]
    assert by_phone != by_email
    result = person_forget(phone=PHONE, email=EMAIL)
    assert result.lead_ids == sorted([by_phone, by_email])
    assert Decision.objects.filter(step=Decision.Step.PRIVACY).count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field"), [({}, "person"), ({"phone": "not a number"}, "phone"), ({"email": "nope"}, "email")]
)
def test_forgetting_needs_a_usable_address(db, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        person_forget(**kwargs)
    assert field in caught.value.message_dict
