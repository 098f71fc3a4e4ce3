"""A person the house holds everywhere (for the export and erasure tests), and a walk of every text column.

``remember_everywhere`` leaves the person in every kind of row the house keeps about someone, through the public
services: a form capture with consent and a raw payload, the pipeline's decisions and draft, an approved and sent
text, an inbound text (a raw webhook), a STOP (an ignored webhook, a consent record, a suppression, the one
confirmation), an appointment with place and note, a logged call, a correction that became an intent example, a
chat session, CRM deliveries whose failures echo the body, and an admin log entry.
"""

from collections import defaultdict

from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models

from approvals.models import Action
from approvals.services import action_approve
from integrations.inbound import webhook_receive
from integrations.models import ChatSession, ChatWidget, CrmEvent, WebhookSubscription
from leads.models import Lead
from leads.services import appointment_book, lead_call_log, sms_words_consent
from routing.services import lead_relabel
from tests.conftest import user

PHONE = "+15128670199"
EMAIL = "zeb@quarterfield.example"
NAME = "Zebulon Quarterfield"
# Strings that only this person's rows contain: their number as typed and normalized, address, name, words.
NEEDLES = ("8670199", "867 0199", "zeb@quarterfield", "Quarterfield", "Zebulon", "wombat")

# Every table the scenario must put the person in before erasure: the walk after it cannot pass by accident.
HELD_IN = {
    "leads.Lead",
    "leads.HistoricalLead",
    "leads.InboundEvent",
    "leads.Message",
    "leads.Appointment",
    "leads.HistoricalAppointment",
    "leads.ConsentRecord",
    "leads.Suppression",
    "approvals.Action",
    "approvals.HistoricalAction",
    "audit.Decision",
    "integrations.InboundWebhook",
    "integrations.WebhookDelivery",
    "integrations.WebhookAttempt",
    "routing.IntentExample",
    "admin.LogEntry",
}


def crm_echoing(monkeypatch) -> None:
    """Every CRM post fails with an answer that echoes what it was sent (so the failure texts hold the person)."""
    import json

    from integrations import outbound

    monkeypatch.setattr(
        outbound, "_post", lambda delivery: (500, f"HTTP 500: {json.dumps(delivery.payload)[:300]}", 1.0)
    )
    WebhookSubscription.objects.create(name="CRM", url="https://crm.example.com/hooks", events=list(CrmEvent.values))


def sms_payload(sid: str, body: str) -> dict:
    return {"MessageSid": sid, "From": PHONE, "To": "+15125550000", "Body": body, "NumMedia": "0"}


def remember_everywhere(capture, on_commit, monkeypatch) -> Lead:
    """The person, everywhere (see the module's docstring); returns their lead. Needs the ``demo`` data."""
    crm_echoing(monkeypatch)
    response = capture(
        name=NAME,
        phone="512 867 0199",
        email="Zeb@Quarterfield.example",
        company="Quarterfield Roofing",
        postal_code="30301",
        message="Need a new roof for the wombat shed, $15k budget",
        payload={"utm_source": "ads", "contact": {"phone": "512 867 0199", "email": EMAIL}},
        consent={"channel": "sms", "text": "I agree to texts", "page_url": f"https://site.example/quote?e={EMAIL}"},
    )
    lead = Lead.objects.get(pk=response.json()["lead"])
    rep = user("rep1")
    draft = Action.objects.get(lead=lead, status=Action.Status.PENDING)
    with on_commit(execute=True):
        action_approve(action_id=draft.pk, user=rep, body="Hi Zebulon, about the wombat shed: free at 4?")
    with on_commit(execute=True):
        webhook_receive(
            kind="twilio_sms", source="twilio-sms", external_id="SM1", payload=sms_payload("SM1", "Yes 4 works")
        )
    appointment_book(
        lead_id=lead.pk,
        user=rep,
        starts_at="2030-01-05T10:00",
        duration_minutes="60",
        location="12 Quarterfield Lane",
        note="Zebulon will show the wombat shed",
    )
    lead_call_log(lead=lead, user=rep, note="Zebulon says the wombat shed leaks")
    lead_relabel(lead_id=lead.pk, intent="question", user=rep)
    ChatSession.objects.create(widget=ChatWidget.objects.first(), lead=lead)
    LogEntry.objects.create(
        user=user("manager"),
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=str(lead.pk),
        object_repr=str(lead),
        action_flag=CHANGE,
        change_message="[]",
    )
    # STOP: the webhook is stored (and ignored as a capture), the opt-out taken, the one confirmation sent.
    with on_commit(execute=True):
        webhook_receive(kind="twilio_sms", source="twilio-sms", external_id="SM2", payload=sms_payload("SM2", "STOP"))
        sms_words_consent(phone=PHONE, body="STOP", reference="SM2")
    lead.refresh_from_db()
    assert lead.opted_out
    return lead


def _text_fields(model) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
    ]


def mentions(needles=NEEDLES) -> dict[str, set[str]]:
    """Every model (history tables, the admin's log and the libraries' tables included) and its text columns
    that contain one of ``needles``: {"app.Model": {"field", ...}}."""
    found: dict[str, set[str]] = defaultdict(set)
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for name in _text_fields(model):
            wanted = models.Q(pk__in=[])
            for needle in needles:
                wanted |= models.Q(**{f"{name}__icontains": needle})
            if model._base_manager.filter(wanted).exists():
                found[model._meta.label].add(name)
    return dict(found)
