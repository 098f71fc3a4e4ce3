"""One lead from a website post to a sent reply, through the public entry points only."""

import pytest
from django.test import Client

from approvals.models import Action, MessageTemplate
from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_form_to_sent_reply_with_full_timeline(demo, django_capture_on_commit_callbacks, sms_outbox, api):
    # 1. A website posts the lead; the pipeline runs on commit.
    with django_capture_on_commit_callbacks(execute=True):
        posted = Client().post(
            "/capture/form/website-quote/",
            {
                "name": "Maya Lopez",
                "phone": "512 867 0100",
                "message": "Can you quote a new roof? $15k budget",
                "postal_code": "30301",
            },
        )
    assert posted.status_code == 202
    lead = Lead.objects.get(pk=posted.json()["lead"])
    assert lead.owner.username == "rep1" and lead.stage == "qualified"

    # 2. The rep logs in, sees the draft, edits it inline and approves it.
    rep = Client()
    assert rep.post("/accounts/login/", {"username": "rep1", "password": "demo"}).status_code == 302
    action = Action.objects.get(lead=lead)
    assert "Hi Maya" in rep.get("/portal/queue/").content.decode()
    assert rep.get(f"/portal/actions/{action.pk}/?mode=edit", headers={"HX-Request": "true"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        approved = rep.post(
            f"/portal/actions/{action.pk}/approve/",
            {"body": "Hi Maya, Ana from Nightshift Demo Co. here. Free for a call at 4?"},
            headers={"HX-Request": "true"},
        )
    assert approved.status_code == 200

    # 3. The worker sent it once through the SMS backend.
    assert [m["to"] for m in sms_outbox] == ["+15128670100"]
    lead.refresh_from_db()
    assert lead.first_response_at is not None and lead.stage == "contacted"

    # 4. The timeline tells the whole story, in order, with reasoning.
    timeline = api.get(f"/api/v1/leads/{lead.pk}/timeline/").json()
    titles = [e["title"].split(" ·")[0] for e in timeline if e["kind"] != "change"]
    changes = [e for e in timeline if e["kind"] == "change"]
    # History diffs: routing gave it an owner, the send answered it.
    assert [c["title"] for c in changes] == ["Changed owner", "Changed first response at, stage"]
    assert changes[0]["changes"] == [["owner", "–", "Ana Rep"]]
    assert titles[:7] == [
        "Web form from website-quote",
        "Enriched",
        "Qualified",
        "Routed",
        "Proposed action",
        "Edited",
        "Approved",
    ]
    assert titles[7:] == ["Outbound SMS to +15128670100 — sent", "Executed", "First touch", "Cadence"]
    # Our message starts the 'Gone quiet' clock: no reply in 48 hours and it follows up.
    assert lead.enrollments.get().cadence.name == "Gone quiet"
    by_title = {e["title"].split(" ·")[0]: e for e in timeline}
    assert by_title["Web form from website-quote"]["reasoning"] == "New lead."
    assert "score" in by_title["Qualified"]["reasoning"]
    assert "round-robin" in by_title["Routed"]["reasoning"]
    assert by_title["Approved"]["actor"] == "rep1"
    page = rep.get(f"/portal/leads/{lead.pk}/").content.decode()
    assert "Free for a call at 4?" in page and "Approved" in page


def test_manager_edits_template_in_admin_and_history_shows_who(demo):
    manager = Client()
    manager.login(username="manager", password="demo")
    template = MessageTemplate.objects.get(name="First response (SMS)")
    url = f"/admin/approvals/messagetemplate/{template.pk}/change/"
    assert manager.get(url).status_code == 200
    response = manager.post(
        url,
        {
            "name": template.name,
            "workflow": template.workflow,
            "channel": "sms",
            "language": template.language,
            "subject": "",
            "body": "Hi {{ first_name }}, {{ rep_name }} here — when can we talk?",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = template.history.first()
    assert latest.history_user.username == "manager"
    assert "when can we talk" in latest.body
    diff = latest.diff_against(latest.prev_record)
    assert [c.field for c in diff.changes] == ["body"]
    assert manager.get(f"/admin/approvals/messagetemplate/{template.pk}/history/").status_code == 200


def test_admin_refuses_a_broken_template(demo):
    manager = Client()
    manager.login(username="manager", password="demo")
    template = MessageTemplate.objects.get(name="First response (SMS)")
    response = manager.post(
        f"/admin/approvals/messagetemplate/{template.pk}/change/",
        {"name": "x", "workflow": "first_response", "channel": "sms", "body": "Hi {% if %}", "active": "on"},
    )
    assert response.status_code == 200 and "Template error" in response.content.decode()
