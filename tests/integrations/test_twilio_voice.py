import re
from datetime import time, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from approvals.models import Action, Policy
from leads.models import InboundEvent, Lead, Message
from routing.directory import config_changed
from routing.models import Absence, Rep, Team, WorkingHours
from routing.voice import PROMPT_CALL_BACK, PROMPT_NO_NUMBER, PROMPT_TEXT_BACK
from tests.conftest import policy_set, user
from tests.factories import UserFactory
from tests.fakes.http_server import Receiver
from tests.integrations.twilio_helpers import PUBLIC, signed_post, twilio_settings  # noqa: F401

pytestmark = pytest.mark.django_db
VOICE, STATUS = "/integrations/twilio/voice/", "/integrations/twilio/voice/status/"
TRANSCRIPTION = "/integrations/twilio/voice/transcription/"
ACCOUNT = "AC" + "0" * 32
# What Twilio sends in From when the caller withheld their number: its keypad spellings of ANONYMOUS,
# RESTRICTED, BLOCKED, UNKNOWN and UNAVAILABLE, the words themselves (any case), carriers' "Private", and nothing.
WITHHELD = ["+266696687", "anonymous", "Anonymous", "ANONYMOUS", "+7378742833", "Restricted", "+2562533",
            "Blocked", "+8656696", "Unknown", "+86282452253", "Unavailable", "Private", "", " "]  # fmt: skip


def call(sid="CA1", caller="+15128670600"):
    return {
        "CallSid": sid,
        "AccountSid": ACCOUNT,
        "From": caller,
        "To": "+15125550000",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }


def recorded(sid="CA1", caller="+15128670600", rec="RE1", seconds="23"):
    """The <Record> action request: the call's parameters and the recording's (Twilio's TwiML <Record> docs)."""
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{rec}"
    return {**call(sid, caller), "CallStatus": "in-progress", "RecordingUrl": url, "RecordingSid": rec,
            "RecordingDuration": seconds, "Digits": "hangup"}  # fmt: skip


def transcribed(sid="CA1", caller="+15128670600", rec="RE1", text="", status="completed"):
    """The transcribeCallback request: TranscriptionSid/Text/Status/Url with the recording's and the call's ids."""
    sid_tr = "TR" + rec[2:]
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Transcriptions/{sid_tr}"
    return {**recorded(sid, caller, rec), "CallStatus": "completed", "TranscriptionSid": sid_tr,
            "TranscriptionText": text, "TranscriptionStatus": status, "TranscriptionType": "fast",
            "TranscriptionUrl": url}  # fmt: skip


def timeline(lead) -> str:
    client = Client()
    client.force_login(user("manager"))
    return client.get(f"/portal/leads/{lead.pk}/").content.decode()


@pytest.fixture
def slack(settings):
    with Receiver() as receiver:
        settings.SLACK_WEBHOOK_URL = receiver.url + "/services/T0/B0/x"
        yield receiver


def slack_texts(receiver) -> list[str]:
    return [body["text"] for _, _, _, body in receiver.calls]


@pytest.fixture
def ring(demo, twilio_settings, django_capture_on_commit_callbacks):  # noqa: F811
    def _post(path, params):
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_post(Client(), path, params)
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "text/xml"
        return response.content.decode()

    return _post


def test_a_new_caller_rings_the_team_and_a_known_one_rings_their_rep(ring):
    twiml = ring(VOICE, call("CA1"))
    assert '<Dial action="https://nightshift.example.com/integrations/twilio/voice/status/"' in twiml
    assert 'timeout="20"' in twiml
    for phone in ("+15125550101", "+15125550102", "+15125550103"):
        assert f"<Number>{phone}</Number>" in twiml
    lead = Lead.objects.get(phone="+15128670600")
    assert lead.events.get().channel == "call"
    assert not lead.actions.exists(), "a call is not answered with a drafted text"
    owner = Rep.objects.get(user=lead.owner)
    again = ring(VOICE, call("CA2"))
    assert again.count("<Number>") == 1 and f"<Number>{owner.phone}</Number>" in again


def test_a_missed_call_is_texted_back_once_and_its_voicemail_and_transcription_join_the_timeline(
    ring, sms_outbox, slack
):
    ring(VOICE, call("CA1"))
    twiml = ring(STATUS, {**call("CA1"), "DialCallStatus": "no-answer"})
    assert f"<Say>{PROMPT_TEXT_BACK}</Say>" in twiml and f'action="{PUBLIC}{STATUS}"' in twiml
    assert 'transcribe="true"' in twiml and f'transcribeCallback="{PUBLIC}{TRANSCRIPTION}"' in twiml
    ring(STATUS, {**call("CA1"), "DialCallStatus": "no-answer"})  # Twilio's retry
    lead = Lead.objects.get()
    text_back = Action.objects.get(lead=lead, workflow="missed_call")
    assert text_back.status == Action.Status.DONE  # the demo's missed-call policy is auto
    assert lead.first_response_at is not None, "the text-back is the caller's first answer: speed to lead counts it"
    assert len(sms_outbox) == 1 and sms_outbox[0]["body"].startswith("Sorry we missed your call!")
    voicemail = recorded("CA1", seconds="14")
    assert "<Hangup />" in ring(STATUS, voicemail)
    ring(STATUS, voicemail)  # Twilio's retry
    missed = Message.objects.get(lead=lead, channel="call")
    assert missed.status == "missed" and missed.media == [voicemail["RecordingUrl"]]
    assert missed.body == "Missed call (no-answer)\nVoicemail, 14 s"
    words = "Hi, this is about the gutter quote, please call me after five."
    ring(TRANSCRIPTION, transcribed("CA1", text=words))
    ring(TRANSCRIPTION, transcribed("CA1", text=words))  # Twilio's retry
    page = timeline(lead)
    assert "Inbound call — missed" in page and voicemail["RecordingUrl"] in page
    assert page.count(escape(f"Transcription: “{words}”")) == 1 and "Voicemail, 14 s" in page
    assert len(sms_outbox) == 1, "the voicemail sends nothing more"
    assert slack.calls == [], "the caller was texted back: no alert"


def test_an_answered_call_is_the_first_touch_and_the_first_response_when_it_was_picked_up(ring, sms_outbox):
    ring(VOICE, call("CA1"))
    ring(STATUS, {**call("CA1"), "DialCallStatus": "completed", "DialCallDuration": "95"})
    lead = Lead.objects.get()
    assert lead.first_touch_at is not None
    # Twilio reports the outcome when the call ends: picked up 95 s before that, never before it came in.
    received = lead.events.get().received_at
    assert received <= lead.first_response_at <= lead.first_touch_at
    ring(STATUS, {**call("CA1"), "DialCallStatus": "completed", "DialCallDuration": "95"})  # Twilio's retry
    assert Lead.objects.get().first_response_at == lead.first_response_at
    assert Message.objects.get(channel="call").body == "Answered call, 1.6 min"
    assert sms_outbox == []


def test_an_opted_out_caller_gets_no_text_back_and_is_promised_a_call(ring, sms_outbox, slack):
    from leads.services import sms_words_consent

    ring(VOICE, call("CA1"))
    sms_words_consent(phone="+15128670600", body="STOP")
    twiml = ring(STATUS, {**call("CA1"), "DialCallStatus": "busy"})
    assert f"<Say>{PROMPT_CALL_BACK}</Say>" in twiml and "text" not in twiml
    assert not Action.objects.exclude(workflow="opt_out_confirmation").exists(), "no text-back, only the confirmation"
    lead = Lead.objects.get()
    assert lead.decisions.get(step="call", outcome="skipped").reasoning == (
        "No text-back: the caller opted out of texts."
    )
    ring(STATUS, recorded("CA1"))
    (alert,) = slack_texts(slack)
    assert alert.startswith(":studio_microphone: Voicemail from +15128670600: the caller opted out of texts, so")
    assert "call them back" in alert and recorded()["RecordingUrl"] in alert


def test_with_the_text_back_only_observed_the_caller_is_promised_a_call(ring, sms_outbox):
    policy_set("missed_call", mode=Policy.Mode.OBSERVE)
    ring(VOICE, call("CA1"))
    assert f"<Say>{PROMPT_CALL_BACK}</Say>" in ring(STATUS, {**call("CA1"), "DialCallStatus": "no-answer"})
    assert sms_outbox == []


def test_every_withheld_caller_id_is_a_lead_of_its_own_without_a_phone(ring, sms_outbox):
    for n, caller in enumerate(WITHHELD):
        twiml = ring(VOICE, call(f"CAw{n}", caller))
        assert "<Dial" in twiml, "a withheld caller still rings the team"
        lead = InboundEvent.objects.get(external_id=f"CAw{n}").lead
        assert (lead.phone, lead.email, lead.name, lead.channel) == (
            "",
            "",
            "Unknown caller (withheld number)",
            "call",
        ), caller
    assert Lead.objects.count() == len(WITHHELD), "one lead per call: withheld callers are never merged"
    ring(VOICE, call("CAw0", "+266696687"))  # Twilio's retry of the same call
    assert Lead.objects.count() == len(WITHHELD)
    # Caller IDs that are no phone number (a SIP URI, a Twilio Client, a short code): no number either.
    for n, caller in enumerate(["sip:alice@example.com", "client:alice", "12345"]):
        ring(VOICE, call(f"CAu{n}", caller))
        lead = InboundEvent.objects.get(external_id=f"CAu{n}").lead
        assert (lead.phone, lead.name) == ("", f"Unknown caller ({caller})")
    assert sms_outbox == []


def test_a_withheld_callers_voicemail_is_kept_on_a_visible_lead_and_the_team_is_alerted(ring, sms_outbox, slack):
    ring(VOICE, call("CA7", "+266696687"))
    twiml = ring(STATUS, {**call("CA7", "+266696687"), "DialCallStatus": "no-answer"})
    assert f"<Say>{PROMPT_NO_NUMBER}</Say>" in twiml and "text you back" not in twiml
    assert "leave your name and number" in PROMPT_NO_NUMBER
    lead = Lead.objects.get()
    assert lead.decisions.get(step="call", outcome="skipped").reasoning == (
        "No text-back: we have no number for the caller."
    )
    voicemail = recorded("CA7", "+266696687", rec="RE7", seconds="31")
    assert "<Hangup />" in ring(STATUS, voicemail)
    ring(STATUS, voicemail)  # Twilio's retry: kept and announced once
    call_message = Message.objects.get(lead=lead, channel="call")
    assert call_message.media == [voicemail["RecordingUrl"]] and call_message.body.endswith("Voicemail, 31 s")
    (alert,) = slack_texts(slack)
    assert alert.startswith(":studio_microphone: Voicemail from Unknown caller (withheld number)")
    assert "listen for their name and number" in alert and voicemail["RecordingUrl"] in alert
    assert f"/portal/leads/{lead.pk}/" in alert
    words = "Hi it's Maria Lopez, my number is 512 867 0699, I need a new roof."
    ring(TRANSCRIPTION, transcribed("CA7", "+266696687", rec="RE7", text=words))
    ring(TRANSCRIPTION, transcribed("CA7", "+266696687", rec="RE7", text=words))
    link = f"<{PUBLIC}/portal/leads/{lead.pk}/|Open Unknown caller (withheld number) in Nightshift>"
    takers = f"For {lead.owner.get_full_name()}, the owner."  # who can take it now (routing.availability)
    assert slack_texts(slack)[1:] == [
        f":memo: Voicemail from Unknown caller (withheld number): “{words}”\n{takers}\n{link}"
    ]
    page = timeline(lead)
    assert "Unknown caller (withheld number)" in page and voicemail["RecordingUrl"] in page
    assert escape(f"Transcription: “{words}”") in page
    manager = Client()
    manager.force_login(user("manager"))
    assert "Unknown caller (withheld number)" in manager.get("/portal/leads/").content.decode(), "on the list"
    assert sms_outbox == [] and not Action.objects.filter(kind="send_sms").exists(), "never an SMS attempt"


def test_a_failed_or_empty_transcription_says_so(ring, sms_outbox):
    ring(VOICE, call("CA1"))
    ring(STATUS, {**call("CA1"), "DialCallStatus": "no-answer"})
    ring(STATUS, recorded("CA1"))
    ring(TRANSCRIPTION, transcribed("CA1", status="failed"))
    assert Message.objects.get(channel="call").body.endswith("Voicemail, 23 s\nNo transcription (failed)")


def test_the_api_still_refuses_an_event_with_no_contact(demo, api):
    body = {"channel": "call", "source": "pbx", "message": "hi", "withheld": True}
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 400 and "phone" in response.json()
    assert not Lead.objects.exists()


def test_with_nobody_to_ring_the_caller_goes_to_voicemail_and_is_texted_back(ring, sms_outbox):
    Rep.objects.update(phone="")
    twiml = ring(VOICE, call("CA1"))
    assert "<Dial" not in twiml and f"<Say>{PROMPT_TEXT_BACK}</Say><Record" in twiml
    ring(STATUS, recorded("CA1", rec="RE2"))
    assert len(sms_outbox) == 1
    assert Message.objects.get(channel="call").body == "Missed call (nobody to ring)\nVoicemail, 23 s"
    withheld = ring(VOICE, call("CA2", "anonymous"))
    assert "<Dial" not in withheld and f"<Say>{PROMPT_NO_NUMBER}</Say><Record" in withheld


def test_bad_voice_callbacks(demo, twilio_settings, ring):  # noqa: F811
    assert Client().post(VOICE, call()).status_code == 403
    assert Client().post(TRANSCRIPTION, transcribed(text="hi")).status_code == 403
    assert signed_post(Client(), VOICE, {"From": "+15128670600"}).status_code == 400
    missing = signed_post(Client(), TRANSCRIPTION, {"TranscriptionText": "hi", "TranscriptionStatus": "completed"})
    assert missing.status_code == 400 and missing.content == b"Missing field(s): CallSid."
    assert "<Hangup />" in ring(STATUS, {**call("CA-unknown"), "DialCallStatus": "no-answer"})
    ring(TRANSCRIPTION, transcribed("CA-unknown", text="hello"))
    assert not Lead.objects.exists() and not Message.objects.exists()


def test_the_text_back_names_a_caller_we_know(ring, sms_outbox, api):
    known = {"channel": "form", "source": "site", "name": "Ada Byron", "phone": "+15128670600", "message": "Roof"}
    assert api.post("/api/v1/events/", known, format="json").status_code == 202
    ring(VOICE, call("CA1"))
    ring(STATUS, {**call("CA1"), "DialCallStatus": "no-answer"})
    (text,) = [m for m in sms_outbox if m["body"].startswith("Sorry")]
    assert text["body"].startswith("Sorry we missed your call, Ada! This is ")


def numbers(twiml: str) -> list[str]:
    return re.findall(r"<Number>([^<]+)</Number>", twiml)


@pytest.fixture
def known_caller(ring):
    """A caller who rang before: their lead is routed to Ana (rep1, +15125550101)."""
    ring(VOICE, call("CA1"))
    lead = Lead.objects.get(phone="+15128670600")
    assert lead.owner.username == "rep1"
    return lead


def test_a_call_whose_owner_is_away_rings_the_reps_working_now(known_caller, ring):
    now = timezone.now()
    Absence.objects.create(
        rep=known_caller.owner.rep, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    twiml = ring(VOICE, call("CA2"))
    assert numbers(twiml) == ["+15125550102", "+15125550103"] and 'timeout="20"' in twiml


def test_a_call_whose_owner_is_off_shift_or_cannot_log_in_rings_the_team(
    known_caller, ring, django_capture_on_commit_callbacks
):
    ana = known_caller.owner.rep
    not_today = (timezone.now().weekday() + 3) % 7
    WorkingHours.objects.create(rep=ana, weekday=not_today, start=time(9), end=time(17))
    assert numbers(ring(VOICE, call("CA2"))) == ["+15125550102", "+15125550103"]
    WorkingHours.objects.filter(rep=ana).delete()
    assert numbers(ring(VOICE, call("CA3"))) == ["+15125550101"]
    # Deactivated in bulk (no signal): Ana still owns the lead, but cannot take the call.
    type(ana.user).objects.filter(pk=ana.user_id).update(is_active=False)
    config_changed()
    assert numbers(ring(VOICE, call("CA4"))) == ["+15125550102", "+15125550103"]
    ana.user.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        ana.user.save()  # as the admin does: the handover gives her lead to Ben or Cleo, who alone is rung
    known_caller.refresh_from_db()
    new_owner = known_caller.owner.rep
    assert new_owner.user.username in ("rep2", "rep3")
    assert numbers(ring(VOICE, call("CA5"))) == [new_owner.phone]


def test_a_call_with_the_whole_team_away_rings_the_fallback_team_then_voicemail(known_caller, ring):
    desk = Team.objects.create(name="Front desk")
    Team.objects.filter(name="Sales").update(is_fallback=False)
    desk.is_fallback = True
    desk.save()
    Rep.objects.create(user=UserFactory(username="desk1"), team=desk, phone="+15125550109")
    now = timezone.now()
    for rep in Rep.objects.filter(team__name="Sales"):
        Absence.objects.create(rep=rep, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    assert numbers(ring(VOICE, call("CA2"))) == ["+15125550109"]
    Absence.objects.create(rep=Rep.objects.get(team=desk), starts_at=now, ends_at=now + timedelta(hours=1))
    twiml = ring(VOICE, call("CA3"))
    assert "<Dial" not in twiml and "<Record" in twiml, "nobody can take it: voicemail"
