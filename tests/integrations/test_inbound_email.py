import io
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from approvals.models import Action, Policy
from approvals.tasks import action_execute
from audit.models import Decision
from integrations.models import InboundWebhook
from leads.models import InboundEvent, Lead, Message
from leads.selectors import lead_timeline
from tests.conftest import policy_set
from tests.fakes.imap_server import ImapServer

pytestmark = pytest.mark.django_db
INBOUND = "/integrations/email/inbound/"


def mime(
    sender="Uma Patel <uma@example.com>", subject="Roof quote", body="Need a new roof, 30301.", **headers
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "leads@nightshift.example"
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("message_id", "<m1@mail.example.com>")
    for name, value in headers.items():
        message[name.replace("_", "-").title()] = value
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture
def secret(settings):
    settings.EMAIL_INBOUND_SECRET = "mail-secret"
    return "mail-secret"


def post(data, secret="mail-secret"):
    return Client().post(INBOUND + f"?secret={secret}", data)


def test_a_raw_inbound_email_is_stored_once_and_captured(demo, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = post({"email": mime().decode()})
        again = post({"email": mime().decode()})
    assert first.status_code == 200 and first.json()["stored"] is True
    assert again.json()["stored"] is False
    lead = Lead.objects.get(email="uma@example.com")
    event = lead.events.get()
    assert lead.name == "Uma Patel" and event.channel == "email"
    assert event.message == "Roof quote\n\nNeed a new roof, 30301."


def test_parsed_fields_without_raw_mime_are_accepted(demo, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            {
                "from": "Vic <vic@example.com>",
                "subject": "Gutters",
                "text": "Can you quote gutters? 30301\n\nOn Mon, someone wrote:\n> old stuff",
                "headers": "Message-ID: <m2@mail.example.com>\nDate: Tue, 24 Nov 2026 10:00:00 +0000",
            }
        )
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.email == "vic@example.com" and event.message == "Gutters\n\nCan you quote gutters? 30301"


def test_a_wrong_secret_or_an_empty_post_stores_nothing(demo, secret):
    assert post({"email": mime().decode()}, secret="guess").status_code == 403
    assert Client().post(INBOUND, {"email": mime().decode()}).status_code == 403
    empty = post({"subject": "no sender"})
    assert empty.status_code == 400 and "email" in empty.json()
    assert not InboundWebhook.objects.exists()


def test_a_reply_threads_to_its_lead_by_in_reply_to_even_from_another_address(
    demo, capture, secret, django_capture_on_commit_callbacks
):
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(email="wen@example.com", name="Wen", message="Roof quote please, 30301").json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    Action.objects.filter(pk=action.pk).update(status=Action.Status.APPROVED)
    action_execute(action.pk)
    sent_id = Message.objects.get(action=action).message_id
    assert sent_id.startswith("<")
    reply = mime(
        sender="Wen at work <wen@work.example>",
        subject="Re: your roof",
        body="Tuesday works.\n\nOn Mon, Nightshift wrote:\n> Hi Wen",
        message_id="<reply1@work.example>",
        in_reply_to=sent_id,
        references=sent_id,
    )
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": reply.decode()})
    assert Lead.objects.count() == 1
    event = InboundEvent.objects.get(external_id="<reply1@work.example>")
    assert event.lead_id == lead_id and event.payload["from"] == "wen@work.example"
    assert event.message == "Re: your roof\n\nTuesday works."


def test_auto_replies_are_kept_but_not_captured(demo, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": mime(auto_submitted="auto-replied").decode()})
    assert InboundWebhook.objects.get().status == "ignored"
    assert not Lead.objects.exists()


def test_poll_mailbox_stores_unseen_messages_once_and_marks_them_seen(demo, django_capture_on_commit_callbacks):
    with ImapServer() as imap:
        imap.mailbox.add(mime())
        imap.mailbox.add(mime(sender="xu@example.com", message_id="<m3@mail.example.com>", body="Siding quote 30301"))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("poll_mailbox", url=imap.url, stdout=io.StringIO())
        assert imap.mailbox.seen == {1, 2}
        imap.mailbox.seen.clear()  # the server forgets; the Message-ID still stops a second capture
        with django_capture_on_commit_callbacks(execute=True):
            call_command("poll_mailbox", url=imap.url, stdout=io.StringIO())
    assert InboundWebhook.objects.count() == 2
    assert set(Lead.objects.values_list("email", flat=True)) == {"uma@example.com", "xu@example.com"}


def test_poll_mailbox_says_what_is_wrong(demo, settings):
    settings.IMAP_URL = ""
    with pytest.raises(CommandError, match="Set IMAP_URL"):
        call_command("poll_mailbox")
    with ImapServer() as imap, pytest.raises(CommandError, match="AUTHENTICATIONFAILED|Invalid credentials"):
        call_command("poll_mailbox", url=imap.url.replace("s3cret", "wrong"))


# Automatic mail: never a lead, never answered; noted on the lead it answers, else dropped with its reason.

MAIL = Path(__file__).parent.parent / "data" / "mail"
ORIGINAL = "<176462940361.4242.11893624005631547183@nightshift>"


def first_answer_emailed(capture, address="wen.li@example.net") -> Message:
    """A lead who gave only an email address, emailed a clarifying question they have not answered yet."""
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead_id = capture(email=address, name="Wen Li", message="Roof quote please").json()["lead"]
    action = Action.objects.get(lead_id=lead_id)
    Action.objects.filter(pk=action.pk).update(status=Action.Status.APPROVED)
    action_execute(action.pk)
    # The fixtures answer a send whose Message-ID was ORIGINAL: this send is that one.
    Message.objects.filter(action=action).update(message_id=ORIGINAL, provider_id=ORIGINAL)
    return Message.objects.get(action=action)


@pytest.mark.parametrize("fixture", ["exchange-automatic-reply.eml", "gmail-vacation-responder.eml"])
def test_an_out_of_office_reply_is_noted_on_its_lead_and_never_answered(
    demo, capture, secret, fixture, django_capture_on_commit_callbacks, mailoutbox
):
    sent = first_answer_emailed(capture)
    actions, events = Action.objects.count(), InboundEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": (MAIL / fixture).read_text()})
    assert Lead.objects.count() == 1 and InboundEvent.objects.count() == events, "no capture, so no qualification"
    assert Action.objects.count() == actions and len(mailoutbox) == 1, "nothing drafted to the auto-responder"
    row = InboundWebhook.objects.get()
    assert row.status == "ignored" and f"noted on lead {sent.lead_id} (on our thread), not answered" in row.error
    note = Decision.objects.get(step=Decision.Step.AUTOMATIC_MAIL)
    assert note.lead_id == sent.lead_id and note.outcome == "skipped"
    assert "until" in note.input_summary and "December 7" in note.input_summary
    entry = next(e for e in lead_timeline(lead=Lead.objects.get()) if e.ref == note.pk)
    assert "December 7" in entry.body and "not answered" in entry.reasoning


def test_an_auto_reply_from_a_leads_address_off_the_thread_is_noted_on_that_lead(
    demo, capture, secret, django_capture_on_commit_callbacks
):
    lead_id = capture(email="wen.li@example.net", name="Wen Li", message="Roof quote please").json()["lead"]
    raw = (MAIL / "exchange-automatic-reply.eml").read_text()
    off_thread = "\n".join(line for line in raw.splitlines() if not line.startswith(("References:", "In-Reply-To:")))
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": off_thread})
    assert f"noted on lead {lead_id} (from the lead's address)" in InboundWebhook.objects.get().error
    assert Lead.objects.get().events.count() == 1


# Each sign alone, as one responder or list server or another sends it.
AUTOMATIC_SIGNS = [
    {"auto_submitted": "auto-replied"},
    {"auto_submitted": "auto-generated"},
    {"x_autoreply": "yes"},
    {"x_autorespond": "Thank you for your message"},
    {"x_auto_response_suppress": "OOF, AutoReply"},
    {"precedence": "auto_reply"},
    {"precedence": "bulk"},
    {"precedence": "junk"},
    {"precedence": "list"},
    {"list_id": "Roofers <roofers.lists.example.org>"},
    {"list_unsubscribe": "<mailto:leave@lists.example.org>"},
    {"return_path": "<>"},
    {"subject": "Automatic reply: Roof quote"},
    {"subject": "Out of Office: Roof quote"},
    {"subject": "Out of the office until Monday"},
    {"subject": "Autoreply: Roof quote"},
    {"subject": "Respuesta automática: Presupuesto de techo"},
    {"subject": "Fuera de la oficina hasta el lunes"},
    {"subject": "Réponse automatique : Devis toiture"},
    {"subject": "Absent du bureau jusqu'au 7 décembre"},
    {"subject": "Automatische Antwort: Dachangebot"},
    {"subject": "Abwesenheitsnotiz: Dachangebot"},
]


@pytest.mark.parametrize("sign", AUTOMATIC_SIGNS, ids=lambda sign: "-".join(f"{k}={v}" for k, v in sign.items()))
def test_automatic_mail_that_answers_no_lead_is_dropped_with_its_reason(
    demo, secret, sign, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": mime(**sign).decode()})
    row = InboundWebhook.objects.get()
    assert row.status == "ignored" and "answers no lead, so it is dropped" in row.error
    assert not Lead.objects.exists() and not Action.objects.exists()


@pytest.mark.parametrize(
    "subject", ["Out of office hours repair?", "Automatic gate opener quote", "Re: Abwesend at the viewing?"]
)
def test_a_person_whose_subject_only_resembles_an_auto_reply_is_a_lead(
    demo, secret, subject, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": mime(subject=subject).decode()})
    assert Lead.objects.get().email == "uma@example.com"


def test_list_mail_is_dropped(demo, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": (MAIL / "mailman-list-post.eml").read_text()})
    assert "Bulk mail (Precedence: list)" in InboundWebhook.objects.get().error
    assert not Lead.objects.exists()


def test_parsed_fields_keep_the_headers_that_mark_an_auto_reply(demo, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(
            {
                "from": "Vic <vic@example.com>",
                "subject": "Re: your quote",
                "text": "I am away until Monday.",
                "headers": "Message-ID: <m4@mail.example.com>\nAuto-Submitted: auto-replied\nX-Autoreply: yes",
            }
        )
    assert "Auto-Submitted: auto-replied" in InboundWebhook.objects.get().error
    assert not Lead.objects.exists()


# A person's mail, read as they wrote it.


def test_an_html_only_mail_is_read_as_text_without_css_entities_quote_or_signature(
    demo, secret, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": (MAIL / "outlook-html-only.eml").read_text()})
    event = InboundEvent.objects.get()
    assert event.message == (
        "RE: Roof replacement - Elm St building\n\nHi,\n\nWe’d like the full replacement quote for the Elm St "
        "building – budget is around $18,000 & we’re in 30301.\n\nCan someone come out Thursday morning?"
    )


GMAIL_HTML_ES = (
    '<div dir="ltr">Hola, necesitamos presupuesto para el techo, c&oacute;digo postal 30301.</div><br>'
    '<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">El lun, 30 nov 2026 a las'
    " 16:12, Nightshift Demo Co. (&lt;leads@nightshift-demo.example&gt;) escribi&oacute;:<br></div>"
    '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204)">'
    "Hola Ana, &iquest;qu&eacute; presupuesto tiene?</blockquote></div>"
)


@pytest.mark.parametrize(
    "fields",
    [
        {"html": GMAIL_HTML_ES},  # SendGrid, HTML only
        {"body-html": GMAIL_HTML_ES, "message-headers": '[["Message-ID", "<m5@mail.example.com>"]]'},  # Mailgun
        {"text": "", "html": "<style>p{color:red}</style><script>alert(1)</script>" + GMAIL_HTML_ES},
    ],
)
def test_parsed_fields_with_html_and_no_text_are_read_as_text(demo, secret, fields, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post({"from": "Ana <ana@example.com>", "subject": "Techo", **fields})
    assert (
        InboundEvent.objects.get().message
        == "Techo\n\nHola, necesitamos presupuesto para el techo, código postal 30301."
    )


def test_mailgun_fields_keep_their_headers_and_prefer_the_full_text(demo, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(
            {
                "sender": "ana@example.com",
                "from": "Ana Ruiz <ana@example.com>",
                "subject": "Roof",
                "body-plain": "New roof for 30301, budget $9k.\n\nOn Mon, Nov 30, 2026 Nightshift wrote:\n> Hi Ana",
                "stripped-text": "New roof for 30301, budget $9k.",
                "message-headers": '[["Message-ID", "<m6@mail.example.com>"], ["In-Reply-To", "<x@nightshift>"]]',
            }
        )
    event = InboundEvent.objects.get()
    assert event.external_id == "<m6@mail.example.com>" and event.payload["in_reply_to"] == "<x@nightshift>"
    assert event.message == "Roof\n\nNew roof for 30301, budget $9k."


QUOTED = {
    "gmail": "On Mon, Nov 30, 2026 at 4:12 PM Nightshift Demo Co. <leads@nightshift-demo.example> wrote:\n\n> Hi!",
    "gmail wrapped": "On Mon, Nov 30, 2026 at 4:12 PM Nightshift Demo Co. <\nleads@nightshift-demo.example>"
    " wrote:\n\n> Hi",
    "outlook": "From: Nightshift Demo Co. <leads@nightshift-demo.example>\nSent: Monday, November 30, 2026 4:12 PM\n"
    "To: Uma Patel <uma@example.com>\nSubject: Your roof\n\nHi Uma, what budget?",
    "outlook original message": "-----Original Message-----\nFrom: Nightshift\nSent: Monday\nTo: Uma\nSubject: x\n\nHi",
    "apple mail": "> On Nov 30, 2026, at 4:12 PM, Nightshift Demo Co. <leads@nightshift-demo.example> wrote:\n>\n> Hi",
    "gmail spanish": "El lun, 30 nov 2026 a las 16:12, Nightshift Demo Co. (<leads@nightshift-demo.example>)"
    " escribió:\n\n> Hola",
    "outlook spanish": "De: Nightshift Demo Co. <leads@nightshift-demo.example>\nEnviado: lunes, 30 de noviembre de "
    "2026 16:12\nPara: Uma\nAsunto: Techo\n\nHola",
    "gmail french": "Le lun. 30 nov. 2026 à 16:12, Nightshift Demo Co. <leads@nightshift-demo.example> a écrit :\n\n"
    "> Bonjour",
    "outlook french": "De : Nightshift Demo Co. <leads@nightshift-demo.example>\nEnvoyé : lundi 30 novembre 2026 16:12"
    "\nÀ : Uma\nObjet : Toit\n\nBonjour",
    "gmail german": "Am Mo., 30. Nov. 2026 um 16:12 Uhr schrieb Nightshift Demo Co. <leads@nightshift-demo.example>:"
    "\n\n> Hallo",
    "outlook german": "Von: Nightshift Demo Co. <leads@nightshift-demo.example>\nGesendet: Montag, 30. November 2026"
    " 16:12\nAn: Uma\nBetreff: Dach\n\nHallo",
    "signature dashes": "-- \nUma Patel\nPatel Roofing Supply | (404) 555-0199",
    "sent from my iphone": "Sent from my iPhone",
    "enviado desde mi iphone": "Enviado desde mi iPhone",
}


@pytest.mark.parametrize("history", QUOTED.values(), ids=QUOTED.keys())
def test_quoted_history_and_signatures_are_cut_before_qualifying(
    demo, secret, history, django_capture_on_commit_callbacks
):
    body = "Tuesday works, and we need gutters too:\n- front\n- back\n\n" + history
    with django_capture_on_commit_callbacks(execute=True):
        post({"email": mime(subject="Re: your roof", body=body).decode()})
    assert (
        InboundEvent.objects.get().message
        == "Re: your roof\n\nTuesday works, and we need gutters too:\n- front\n- back"
    )


def test_an_8bit_latin_1_mail_from_the_mailbox_keeps_every_character(demo, django_capture_on_commit_callbacks):
    raw = (
        "From: =?iso-8859-1?q?Jos=E9_Pe=F1a?= <jose@example.com>\r\nTo: leads@nightshift-demo.example\r\n"
        "Subject: Presupuesto\r\nMessage-ID: <latin1@example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Necesito un techo nuevo, código postal 30301. ¿Cuándo pueden venir?\r\n"
    ).encode("iso-8859-1")
    with ImapServer() as imap:
        imap.mailbox.add(raw)
        with django_capture_on_commit_callbacks(execute=True):
            call_command("poll_mailbox", url=imap.url, stdout=io.StringIO())
    event = InboundEvent.objects.get()
    assert event.name == "José Peña"
    assert event.message == "Presupuesto\n\nNecesito un techo nuevo, código postal 30301. ¿Cuándo pueden venir?"


def test_headers_the_email_package_cannot_parse_never_lose_the_mail(demo, secret, django_capture_on_commit_callbacks):
    """`Cc: "`, a From cut short, `Message-ID: <`: each stored, then captured or failed with its reason, never a 500."""
    with django_capture_on_commit_callbacks(execute=True):
        fields = post({"from": "Ola <ola@example.com>", "headers": 'Cc: "\nX-Note: ok\n', "text": "Roof quote"})
        bad_from = post({"from": "Bob <b@x.com>, <", "text": "Gutters"})
        raw = mime(sender="Pia <pia@example.com>", message_id="<m9@mail.example.com>").replace(
            b"Message-ID: <m9@mail.example.com>", b"Message-ID: <"
        )
        bad_id = post({"email": raw.decode()})
    assert [r.status_code for r in (fields, bad_from, bad_id)] == [200, 200, 200]
    assert Lead.objects.filter(email__in=["ola@example.com", "pia@example.com"]).count() == 2
    failed = InboundWebhook.objects.get(pk=bad_from.json()["id"])
    assert failed.status == InboundWebhook.Status.FAILED and "no From address" in failed.error, "kept, with why"
