import re
from datetime import time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from approvals.models import Action
from leads.models import Lead, Message
from routing.directory import config_changed
from routing.models import Absence, Rep, Team, WorkingHours
from tests.conftest import user
from tests.factories import UserFactory
from tests.integrations.twilio_helpers import PUBLIC, signed_post, twilio_settings  # noqa: F401

pytestmark = pytest.mark.django_db
VOICE, STATUS = "/integrations/twilio/voice/", "/integrations/twilio/voice/status/"


def call(sid="CA1", caller="+15128670600"):
    return {"CallSid": sid, "AccountSid": "AC1", "From": caller, "To": "+15125550000", "CallStatus": "ringing"}


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


def test_a_missed_call_is_texted_back_once_through_the_action_path_and_offers_voicemail(ring, sms_outbox):
    ring(VOICE, call("CA1"))
    twiml = ring(STATUS, {**call("CA1"), "DialCallStatus": "no-answer"})
    assert "<Say>" in twiml and "<Record" in twiml and f'action="{PUBLIC}{STATUS}"' in twiml
    ring(STATUS, {**call("CA1"), "DialCallStatus": "no-answer"})  # Twilio's retry
    lead = Lead.objects.get()
    text_back = Action.objects.get(lead=lead, workflow="missed_call")
    assert text_back.status == Action.Status.DONE  # the demo's missed-call policy is auto
    assert len(sms_outbox) == 1 and sms_outbox[0]["body"].startswith("Sorry we missed your call")
    voicemail = ring(STATUS, {**call("CA1"), "RecordingUrl": "https://api.twilio.com/rec/RE1"})
    assert "<Hangup />" in voicemail
    missed = Message.objects.get(lead=lead, channel="call")
    assert missed.status == "missed" and missed.media == ["https://api.twilio.com/rec/RE1"]
    timeline = Client()
    timeline.force_login(user("manager"))
    page = timeline.get(f"/portal/leads/{lead.pk}/").content
    assert b"Inbound call \xe2\x80\x94 missed" in page and b"https://api.twilio.com/rec/RE1" in page


def test_an_answered_call_is_the_first_touch(ring, sms_outbox):
    ring(VOICE, call("CA1"))
    ring(STATUS, {**call("CA1"), "DialCallStatus": "completed", "DialCallDuration": "95"})
    lead = Lead.objects.get()
    assert lead.first_touch_at is not None
    assert Message.objects.get(channel="call").body == "Answered call, 1.6 min"
    assert sms_outbox == []


def test_an_opted_out_caller_gets_no_text_back(ring, sms_outbox):
    from leads.services import sms_words_consent

    ring(VOICE, call("CA1"))
    sms_words_consent(phone="+15128670600", body="STOP")
    ring(STATUS, {**call("CA1"), "DialCallStatus": "busy"})
    assert not Action.objects.exclude(workflow="opt_out_confirmation").exists(), "no text-back, only the confirmation"
    assert Lead.objects.get().decisions.filter(step="call", outcome="skipped").exists()


def test_with_nobody_to_ring_the_caller_goes_to_voicemail_and_is_texted_back(ring, sms_outbox):
    Rep.objects.update(phone="")
    twiml = ring(VOICE, call("CA1"))
    assert "<Dial" not in twiml and "<Record" in twiml
    ring(STATUS, {**call("CA1"), "RecordingUrl": "https://api.twilio.com/rec/RE2"})
    assert len(sms_outbox) == 1


def test_bad_voice_callbacks(demo, twilio_settings, ring):  # noqa: F811
    assert Client().post(VOICE, call()).status_code == 403
    assert signed_post(Client(), VOICE, {"From": "+15128670600"}).status_code == 400
    withheld = ring(VOICE, call("CA9", caller="anonymous"))
    assert "<Record" in withheld and not Lead.objects.exists()
    assert "<Hangup />" in ring(STATUS, {**call("CA-unknown"), "DialCallStatus": "no-answer"})


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
