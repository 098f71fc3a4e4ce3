"""The managers' SMS limit counts segments by encoding, on every road: portal, API, bulk, proposing, the executor;
the queue and the lead page show the count, the encoding and its cause, and the live count answers as a rep types."""

import pytest
from django.core.exceptions import ValidationError

from approvals.models import Action, MessageTemplate, SmsSettings, Workflow
from audit.models import Decision
from tests.approvals.conftest import HTMX
from tests.conftest import policy_set, user, user_client

pytestmark = pytest.mark.django_db

EMOJI_300 = "x" * 299 + "🏠"  # 300 characters, one emoji: UCS-2, 5 segments (321 plain ones are 3 GSM-7)


def limit_set(segments: int) -> None:
    """As a manager does in the admin: the one row, through save() (which every process's snapshot hears)."""
    row = SmsSettings.load()
    row.max_segments = segments
    row.save()


def test_321_plain_characters_pass_and_300_with_an_emoji_are_refused_naming_count_encoding_and_cause(rep1, pending):
    ok = rep1.post(f"/portal/actions/{pending.pk}/edit/", {"body": "x" * 321}, headers=HTMX)
    assert ok.status_code == 200
    pending.refresh_from_db()
    assert pending.body == "x" * 321
    assert "3 segments · GSM-7" in ok.content.decode()

    refused = rep1.post(f"/portal/actions/{pending.pk}/edit/", {"body": EMOJI_300}, headers=HTMX)
    assert refused.status_code == 422
    assert "5 segments · UCS-2 because of 🏠; the limit is 3." in refused.content.decode()
    pending.refresh_from_db()
    assert pending.body == "x" * 321, "nothing is saved"


def test_a_manager_sets_the_limit_in_the_admin_and_the_portal_and_the_api_use_it(client, demo, pending, api):
    client.force_login(user("manager"))
    listing = client.get("/admin/approvals/smssettings/")
    assert listing.status_code == 302 and listing["Location"].endswith("/admin/approvals/smssettings/1/change/")
    form = client.get(listing["Location"]).content.decode()
    assert 'name="max_segments"' in form and 'value="3"' in form
    assert (
        "Ensure this value is greater than or equal to 1"
        in client.post(listing["Location"], {"max_segments": "0"}).content.decode()
    )
    assert client.post(listing["Location"], {"max_segments": "2"}).status_code == 302
    row = SmsSettings.load()
    assert row.max_segments == 2 and row.history.filter(history_user__username="manager").exists()

    rep = user_client("rep1")
    portal = rep.post(f"/portal/actions/{pending.pk}/edit/", {"body": "x" * 321}, headers=HTMX)
    assert portal.status_code == 422 and "3 segments · GSM-7; the limit is 2." in portal.content.decode()
    edited = rep.post(f"/api/v1/actions/{pending.pk}/edit/", {"body": "x" * 321}, format="json")
    assert edited.status_code == 400 and edited.json() == {"body": ["3 segments · GSM-7; the limit is 2."]}
    proposed = api.post(
        "/api/v1/actions/", {"lead": pending.lead_id, "workflow": "follow_up", "body": "x" * 321}, format="json"
    )
    assert proposed.status_code == 400 and proposed.json()["body"] == ["3 segments · GSM-7; the limit is 2."]
    reply = rep.post(f"/portal/leads/{pending.lead_id}/reply/", {"body": "x" * 321})
    assert reply.status_code == 422 and "3 segments · GSM-7; the limit is 2." in reply.content.decode()


def test_a_draft_over_a_lowered_limit_is_refused_when_approved_unchanged_one_by_one_or_in_bulk(
    rep1, pending, sms_outbox, django_capture_on_commit_callbacks
):
    rep1.post(f"/portal/actions/{pending.pk}/edit/", {"body": "x" * 321}, headers=HTMX)
    pending.refresh_from_db()
    limit_set(2)
    one = rep1.post(f"/portal/actions/{pending.pk}/approve/", {"version": pending.version}, headers=HTMX)
    assert one.status_code == 422
    assert "3 segments · GSM-7; the limit is 2." in one.content.decode() and "<textarea" in one.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        bulk = rep1.post("/portal/actions/bulk-approve/", {"ids": [pending.pk]}, headers=HTMX)
    html = bulk.content.decode()
    assert "Approved 0; 1 could not be approved" in html and "3 segments · GSM-7; the limit is 2." in html
    pending.refresh_from_db()
    assert pending.status == Action.Status.PENDING and sms_outbox == []


def test_the_executor_holds_an_approved_text_over_the_limit_for_a_person(
    rep1, pending, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        rep1.post(f"/portal/actions/{pending.pk}/approve/", {"body": "x" * 321}, headers=HTMX)
    limit_set(2)  # lowered between the approval and the send
    for callback in queued:
        callback()
    pending.refresh_from_db()
    assert sms_outbox == []
    assert pending.status == Action.Status.PENDING and pending.escalated
    assert pending.escalation_reason == "too long: 3 segments · GSM-7; the limit is 2."
    execute = Decision.objects.filter(action=pending, step=Decision.Step.EXECUTE).get()
    assert execute.reasoning.startswith("Not sent: 3 segments · GSM-7; the limit is 2.")
    queue = rep1.get("/portal/queue/").content.decode()
    assert "too long: 3 segments · GSM-7; the limit is 2." in queue


def first_response_template(body: str) -> None:
    template = MessageTemplate.objects.get(workflow=Workflow.FIRST_RESPONSE, channel="sms", language="en")
    template.body = body
    template.full_clean()
    template.save()


TYPOGRAPHIC = (
    "Hi {{ first_name }}, thanks for reaching out to {{ business_name }} — we’ll call you soon… {{ rep_name }}"
)


def test_an_automatic_first_response_gets_gsm7_punctuation_but_keeps_a_name_that_forces_ucs2(demo, capture):
    first_response_template(TYPOGRAPHIC)
    plain = Action.objects.get(lead_id=capture(name="Lukas Nowak", phone="+15128670101").json()["lead"])
    assert "’" not in plain.body and "—" not in plain.body and "…" not in plain.body
    assert " - we'll call you soon... " in plain.body
    assert plain.segmentation.summary == "1 segment · GSM-7"

    named = Action.objects.get(lead_id=capture(name="Łukasz Nowak", phone="+15128670102").json()["lead"])
    assert named.body.startswith("Hi Łukasz, thanks") and " - we'll call you soon... " in named.body
    assert named.segmentation.summary == "2 segments · UCS-2 because of Ł", "the name is kept, and counted"

    apostrophe = Action.objects.get(lead_id=capture(name="D’Arcy Kemp", phone="+15128670103").json()["lead"])
    assert apostrophe.body.startswith("Hi D’Arcy, thanks") and " - we'll call " in apostrophe.body

    manager = user_client("manager")
    queue = manager.get("/portal/queue/").content.decode()
    assert "2 segments · UCS-2 because of Ł" in queue and "use L instead" in queue and "a different spelling" in queue
    lead_page = manager.get(f"/portal/leads/{named.lead_id}/").content.decode()
    assert "2 segments · UCS-2 because of Ł" in lead_page


def test_an_automatic_text_over_the_limit_waits_for_a_person_even_on_auto(demo, capture, sms_outbox):
    policy_set(Workflow.FIRST_RESPONSE, mode="auto", min_confidence=0)
    limit_set(1)
    sent = Action.objects.get(lead_id=capture(name="Lukas Nowak", phone="+15128670104").json()["lead"])
    assert sent.status == Action.Status.DONE and len(sms_outbox) == 1
    held = Action.objects.get(lead_id=capture(name="Łukasz Nowak", phone="+15128670105").json()["lead"])
    assert held.status == Action.Status.PENDING and held.escalated and len(sms_outbox) == 1
    assert held.escalation_reason == (
        "too long: 2 segments · UCS-2 because of Ł; the limit is 1. "
        "Use L instead of Ł (a different spelling): 1 segment · GSM-7."
    )
    assert held.body.startswith("Hi Łukasz"), "a name is never respelled by the system"


def test_a_template_over_the_limit_is_refused_as_it_would_be_sent(demo):
    template = MessageTemplate(name="Long", workflow=Workflow.FOLLOW_UP, channel="sms", body="Hi {{ first_name }} ")
    template.body += "x" * 460
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert refused.value.message_dict["body"] == ["Written to Alex from Sam: 4 segments · GSM-7; the limit is 3."]
    # 150 characters and a curly apostrophe: drafting sends a straight one, so it is one GSM-7 segment.
    MessageTemplate(name="Short", workflow=Workflow.FOLLOW_UP, channel="sms", body="We’ll " + "x" * 144).full_clean()


def test_the_live_count_answers_as_the_rep_types(rep1, client):
    answer = rep1.post("/portal/sms/segments/", {"body": "We’ll call you", "key": "12"}, headers=HTMX)
    html = answer.content.decode()
    assert answer.status_code == 200 and 'id="sms-count-12"' in html and 'data-sms-field="sms-body-12"' in html
    assert "1 segment · UCS-2 because of ’" in html
    assert 'data-sms-from="’" data-sms-to="&#x27;"' in html and "use &#x27; instead" in html
    over = rep1.post("/portal/sms/segments/", {"body": EMOJI_300, "key": "reply"}, headers=HTMX).content.decode()
    assert 'class="sms-count over"' in over and "5 segments · UCS-2 because of 🏠" in over
    assert "the limit is 3" in over and "data-sms-from" not in over, "no look-alike for an emoji"
    bad = rep1.post("/portal/sms/segments/", {"body": "x", "key": '"><script>'}, headers=HTMX)
    assert bad.status_code == 400 and "key" in bad.content.decode()
    rep1.logout()
    assert client.post("/portal/sms/segments/", {"body": "x", "key": "1"}).status_code == 302


def test_the_queue_and_the_lead_page_show_the_count_for_texts_only(rep1, pending, demo):
    queue = rep1.get("/portal/queue/").content.decode()
    assert f'id="sms-count-{pending.pk}"' in queue and "1 segment · GSM-7" in queue
    editor = rep1.get(f"/portal/actions/{pending.pk}/?mode=edit", headers=HTMX).content.decode()
    assert f'id="sms-body-{pending.pk}"' in editor and 'hx-post="/portal/sms/segments/"' in editor
    assert "maxlength" not in editor, "the limit is segments, not characters"
    lead_page = rep1.get(f"/portal/leads/{pending.lead_id}/").content.decode()
    assert f'id="sms-count-{pending.pk}"' in lead_page and 'id="sms-count-reply"' in lead_page
    assert 'id="sms-body-reply"' in lead_page
    email = Action.objects.create(
        lead=pending.lead, workflow=Workflow.FOLLOW_UP, kind=Action.Kind.SEND_EMAIL, status=Action.Status.PENDING,
        payload={"to": "noor@example.com", "body": "Hello", "subject": "Hi"},
    )  # fmt: skip
    assert f'id="sms-count-{email.pk}"' not in rep1.get("/portal/queue/").content.decode()


def test_the_api_gives_an_sms_its_segments(pending):
    body = user_client("rep1").get(f"/api/v1/actions/{pending.pk}/").json()
    assert body["sms"]["segments"] == 1 and body["sms"]["encoding"] == "GSM-7"
    assert body["sms"]["because_of"] == [] and body["sms"]["summary"] == "1 segment · GSM-7"
    assert body["sms"]["units"] == len(pending.body)
