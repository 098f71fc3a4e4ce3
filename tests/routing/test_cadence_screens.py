"""Cadences as people and integrations meet them: the admin's checks, the API, the lead page and the report."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from approvals.models import MessageTemplate
from leads.models import Lead
from leads.services import lead_stage_set
from routing.cadences import cadence_pass, enrollment_create
from routing.models import Cadence, Enrollment
from tests.conftest import user, user_client

pytestmark = pytest.mark.django_db


def portal(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


@pytest.fixture
def lead(demo, capture):
    return Lead.objects.get(
        pk=capture(name="Dana Diaz", phone="(415) 555-0101", message="New roof please").json()["lead"]
    )


def cadence_form(steps: list[dict], **fields) -> dict:
    """The admin's add form for a cadence with ``steps`` inline, as a browser posts it."""
    data = {
        "name": "Estimate chase",
        "active": "on",
        "workflow": "follow_up",
        "trigger": "manual",
        "stop_on_reply": "on",
        "stop_stages": "won, lost",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "1",
        "steps-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for i, step in enumerate(steps):
        data.update({f"steps-{i}-{key}": value for key, value in {"position": i, **step}.items()})
    return data


def sms_step(template_name="Quote check-in (SMS)", **overrides) -> dict:
    template = MessageTemplate.objects.get(name=template_name)
    return {"delay": "1", "delay_unit": "business_days", "channel": "sms", "template": str(template.pk), **overrides}


def admin_errors(response) -> str:
    assert response.status_code == 200, "the form comes back with its errors"
    return response.content.decode()


def test_the_admin_saves_a_valid_cadence_with_history(demo):
    client = portal("manager")
    response = client.post("/admin/routing/cadence/add/", cadence_form([sms_step()]))
    assert response.status_code == 302, response.content.decode()[:2000]
    cadence = Cadence.objects.get(name="Estimate chase")
    assert cadence.steps.count() == 1
    assert cadence.history.count() == 1 and cadence.steps.get().history.count() == 1


QUOTE = "Quote check-in (SMS)"


@pytest.mark.parametrize(
    ("steps", "fields", "message"),
    [
        ([], {}, "Add at least one step: a cadence with no steps would do nothing."),
        ([(QUOTE, {"delay": "-1"})], {}, "Ensure this value is greater than or equal to 0."),
        ([("Review request (SMS)", {})], {}, "The text uses {{ link }} (set the cadence&#x27;s link)"),
        ([("Appointment soon (SMS)", {})], {}, "{{ appointment_time }} (only appointment cadences know it)"),
        ([("Quote last call (email)", {})], {}, "This is an email template; the step sends sms."),
        ([(QUOTE, {"channel": "call", "template": ""})], {}, "Say what the rep (or the team) is asked to do."),
        (
            [(QUOTE, {})],
            {"trigger": "stage_entered", "trigger_stage": "won"},
            "&#x27;won&#x27; both starts and stops this cadence",
        ),
        ([(QUOTE, {})], {"trigger": "no_reply"}, "Say how many hours of silence start this cadence."),
        ([(QUOTE, {})], {"stop_stages": "won, closed"}, "Unknown stage(s): closed."),
    ],
)
def test_the_admin_refuses_a_cadence_that_could_not_run(demo, steps, fields, message):
    form = cadence_form([sms_step(name, **overrides) for name, overrides in steps], **fields)
    response = portal("manager").post("/admin/routing/cadence/add/", form)
    assert message in admin_errors(response)
    assert not Cadence.objects.filter(name="Estimate chase").exists()


def test_a_review_link_makes_the_review_template_valid(demo):
    response = portal("manager").post(
        "/admin/routing/cadence/add/",
        cadence_form([sms_step("Review request (SMS)")], link="https://example.com/review"),
    )
    assert response.status_code == 302


def test_integrations_list_cadences_and_enroll_stop_pause_resume_and_skip(lead, api):
    cadences = {c["name"]: c for c in api.get("/api/v1/cadences/").json()["results"]}
    quote = cadences["Quote follow-up"]
    assert (quote["trigger"], quote["trigger_stage"], quote["steps"]) == ("stage_entered", "quoted", 4)

    created = api.post("/api/v1/enrollments/", {"lead": lead.pk, "cadence": quote["id"]}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["cadence_name"], body["trigger"]) == (
        "active",
        "Quote follow-up",
        "enrolled through the API",
    )
    again = api.post("/api/v1/enrollments/", {"lead": lead.pk, "cadence": quote["id"]}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == "Dana Diaz is already in 'Quote follow-up'."

    url = f"/api/v1/enrollments/{body['id']}"
    assert api.post(f"{url}/pause/").json()["status"] == "paused"
    assert api.post(f"{url}/pause/").status_code == 409
    resumed = api.post(f"{url}/resume/").json()
    assert resumed["status"] == "active" and resumed["next_run_at"]
    assert api.post(f"{url}/skip/").json()["position"] == 1
    stopped = api.post(f"{url}/stop/", {"reason": "Closed in the CRM"}, format="json").json()
    assert (stopped["status"], stopped["stop_kind"], stopped["stop_reason"]) == (
        "stopped",
        "person",
        "Closed in the CRM",
    )
    assert api.post(f"{url}/stop/").status_code == 409
    listed = api.get(f"/api/v1/enrollments/?lead={lead.pk}&status=stopped").json()
    assert [e["id"] for e in listed["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"lead": 1}, "cadence"), ({"cadence": 1}, "lead"), ({"lead": "x", "cadence": 1}, "lead")],
)
def test_bad_enrollment_input_names_the_field(lead, api, payload, field):
    response = api.post("/api/v1/enrollments/", payload, format="json")
    assert response.status_code == 400 and field in response.json()


def test_unknown_ids_and_other_reps_leads_are_refused(lead, api):
    cadence = Cadence.objects.get(name="Quote follow-up")
    assert api.post("/api/v1/enrollments/", {"lead": lead.pk, "cadence": 99999}, format="json").json() == {
        "cadence": ["No cadence 99999."]
    }
    rep2 = user_client("rep2")  # rep1 owns the lead
    response = rep2.post("/api/v1/enrollments/", {"lead": lead.pk, "cadence": cadence.pk}, format="json")
    assert response.status_code == 400 and "lead" in response.json()
    enrollment = enrollment_create(cadence=cadence, lead=lead, trigger="test")
    assert rep2.post(f"/api/v1/enrollments/{enrollment.pk}/stop/").status_code == 404
    assert rep2.get("/api/v1/enrollments/").json()["results"] == []
    assert user_client("rep1").get("/api/v1/enrollments/").json()["count"] == 1
    assert Client().get("/api/v1/enrollments/").status_code in (401, 403)


def test_the_lead_page_shows_the_next_step_and_a_rep_pauses_skips_and_stops_over_htmx(lead):
    lead_stage_set(lead_id=lead.pk, stage="quoted", user=user("rep1"))
    enrollment = Enrollment.objects.get(lead=lead)
    client = portal("rep1")
    page = client.get(f"/portal/leads/{lead.pk}/").content.decode()
    assert "Quote follow-up" in page and "Step 1 of 4: SMS to the lead &#x27;Quote check-in (SMS)&#x27;" in page
    htmx = {"HX-Request": "true"}

    paused = client.post(f"/portal/enrollments/{enrollment.pk}/pause/", headers=htmx)
    assert paused.status_code == 200 and "Paused" in paused.content.decode() and "Resume" in paused.content.decode()
    resumed = client.post(f"/portal/enrollments/{enrollment.pk}/resume/", headers=htmx).content.decode()
    assert "Active" in resumed
    skipped = client.post(f"/portal/enrollments/{enrollment.pk}/skip/", headers=htmx).content.decode()
    assert "Step 2 of 4: Call task for the rep" in skipped
    stopped = client.post(f"/portal/enrollments/{enrollment.pk}/stop/", headers=htmx).content.decode()
    assert "Stopped by rep1." in stopped
    again = client.post(f"/portal/enrollments/{enrollment.pk}/stop/", headers=htmx)
    assert again.status_code == 409 and "This enrollment is stopped." in again.content.decode()
    assert portal("rep2").post(f"/portal/enrollments/{enrollment.pk}/stop/", headers=htmx).status_code == 404


def test_a_rep_enrolls_from_the_lead_page_and_errors_come_back_in_place(lead):
    client = portal("rep1")
    htmx = {"HX-Request": "true"}
    cadence = Cadence.objects.get(name="Gone quiet")
    added = client.post(f"/portal/leads/{lead.pk}/enrollments/", {"cadence": cadence.pk}, headers=htmx)
    assert added.status_code == 200 and "Gone quiet" in added.content.decode()
    twice = client.post(f"/portal/leads/{lead.pk}/enrollments/", {"cadence": cadence.pk}, headers=htmx)
    assert twice.status_code == 409 and "already in &#x27;Gone quiet&#x27;" in twice.content.decode()
    blank = client.post(f"/portal/leads/{lead.pk}/enrollments/", {"cadence": ""}, headers=htmx)
    assert blank.status_code == 422 and "Choose a cadence." in blank.content.decode()
    plain = client.post(f"/portal/leads/{lead.pk}/enrollments/", {"cadence": cadence.pk})
    assert plain.status_code == 302, "without HTMX the page is shown again"
    page = client.get(f"/portal/leads/{lead.pk}/").content.decode()
    assert (
        'name="cadence"' in page
        and "Appointment reminders" not in page.split('name="cadence"')[1].split("</select>")[0]
    )


def test_managers_see_the_cadence_report_and_reps_do_not(lead):
    enrollment_create(cadence=Cadence.objects.get(name="Gone quiet"), lead=lead, trigger="test")
    cadence_pass(now=timezone.now() + timedelta(days=3))
    page = portal("manager").get("/portal/cadences/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Gone quiet" in html and "Stopped by reply" in html and "Reply rate" in html
    assert portal("rep1").get("/portal/cadences/").status_code == 403
    assert portal("manager").get("/portal/cadences/?days=abc").status_code == 200
