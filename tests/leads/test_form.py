"""The public form endpoint as browsers, form builders and JSON clients use it (leads/views.py capture_form)."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from approvals.models import Action
from leads.models import ConsentRecord, InboundEvent, Lead, WebForm
from routing.tasks import event_process

pytestmark = pytest.mark.django_db

URL = "/capture/form/website-quote/"
FORM = {"name": "Rosa Diaz", "phone": "512-555-0199", "message": "Gutter repair please", "postal_code": "78702"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
BOUNDARY = "----WebKitFormBoundaryqQ1UbqVxYyZOg8sb"


def multipart(fields, files=()):
    """A body as Chrome writes a multipart/form-data post (UTF-8 page)."""
    out = b""
    for name, value in fields:
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, filename, content_type, data in files:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        out += f"{head}Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    client = Client(REMOTE_ADDR="203.0.113.9")

    def _post(data, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, data, **kwargs)

    return _post


def test_form_post_redirects_browser_to_thank_you_page(demo, post):
    WebForm.objects.filter(slug="website-quote").update(thank_you_url="https://example.com/thanks")
    response = post(FORM, headers=BROWSER)
    assert response.status_code == 303
    assert response["Location"] == "https://example.com/thanks"
    event = InboundEvent.objects.get()
    assert (event.channel, event.source, event.lead.phone) == ("form", "website-quote", "+15125550199")
    assert event.payload["message"] == "Gutter repair please"
    assert event.lead.owner is not None, "the pipeline ran"
    assert Action.objects.filter(lead=event.lead).exists(), "a real post is answered"


def test_json_post_answers_like_the_api(demo, post):
    response = post(FORM, content_type="application/json")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"event", "lead", "duplicate"}
    assert Lead.objects.filter(pk=body["lead"]).exists()


def test_without_a_thank_you_url_a_browser_gets_a_page_and_a_program_json(demo, post):
    page = post(FORM, headers=BROWSER)
    assert page.status_code == 202 and page["Content-Type"].startswith("text/html") and b"Thank you" in page.content
    program = post({**FORM, "phone": "512-555-0100"}, headers={"Accept": "application/json"})
    assert program.status_code == 202 and program.json()["lead"]


def test_multipart_with_repeated_fields_and_a_photo_keeps_every_value(demo, post):
    photo = b"\xff\xd8\xff\xe0" + b"\0" * (300 * 1024)  # over the 256 KiB text limit: files are allowed more
    body = multipart(
        [*FORM.items(), ("services", "gutters"), ("services", "roofing"), ("budget", "$5k"), ("services", "")],
        files=[("photo", "roof.jpg", "image/jpeg", photo), ("other", "", "application/octet-stream", b"")],
    )
    response = post(body, content_type=MULTIPART, headers=BROWSER)
    assert response.status_code == 202
    event = InboundEvent.objects.get()
    assert event.name == "Rosa Diaz" and event.postal_code == "78702"
    assert event.message.splitlines() == [
        "Gutter repair please",
        "",
        "services: gutters, roofing",
        "budget: $5k",
        "attached (not kept): roof.jpg (image/jpeg, 300 KB)",
    ]
    assert event.payload["services"] == ["gutters", "roofing", ""]
    assert event.payload["form_post"]["files"] == [
        {"field": "photo", "name": "roof.jpg", "type": "image/jpeg", "size": len(photo)}
    ]


def test_urlencoded_and_json_repeated_fields_reach_the_message(demo, post):
    post("name=Al&phone=5125550101&services=gutters&services=roofing", content_type="application/x-www-form-urlencoded")
    post({"name": "Bo", "phone": "5125550102", "services": ["siding", "windows"]}, content_type="application/json")
    first, second = InboundEvent.objects.order_by("pk")
    assert first.message == "services: gutters, roofing" and first.payload["services"] == ["gutters", "roofing"]
    assert second.message == "services: siding, windows" and second.payload["services"] == ["siding", "windows"]


def test_text_plain_enctype_is_read(demo, post):
    body = "name=Rosa Diaz\r\nphone=512-555-0199\r\nmessage=Two things:\r\nthe gutter and the fascia\r\n"
    assert post(body, content_type="text/plain").status_code == 202
    event = InboundEvent.objects.get()
    assert (event.name, event.message) == ("Rosa Diaz", "Two things:\nthe gutter and the fascia")


AUTOFILL = {
    "given-name": "Rosa",
    "family-name": "Diaz",
    "tel": "(512) 555-0199",
    "email": "rosa@example.com",
    "street-address": "12 Elm St",
    "address-level2": "Austin",
    "address-level1": "TX",
    "postal-code": "78702",
    "country-name": "United States",
    "organization": "Diaz Bakery",
    "comments": "Gutters are overflowing",
}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (AUTOFILL, ("Rosa Diaz", "(512) 555-0199", "rosa@example.com", "78702", "US", "Diaz Bakery")),
        (  # Contact Form 7's defaults
            {
                "your-name": "Rosa Diaz",
                "your-email": "rosa@example.com",
                "your-subject": "Gutters",
                "your-message": "Hi",
            },
            ("Rosa Diaz", "", "rosa@example.com", "", "", ""),
        ),
        (  # WPForms / HubSpot style
            {"first_name": "Rosa", "last_name": "Diaz", "phone_number": "512 555 0199", "zip": "78702"},
            ("Rosa Diaz", "512 555 0199", "", "78702", "", ""),
        ),
        (
            {"fname": "Rosa", "lname": "Diaz", "E-mail": "rosa@example.com", "Company Name": "Diaz Bakery"},
            ("Rosa Diaz", "", "rosa@example.com", "", "", "Diaz Bakery"),
        ),
    ],
    ids=["autofill", "contact-form-7", "first_name", "fname"],
)
def test_autofill_and_builder_field_names_are_mapped(demo, post, fields, expected):
    assert post(fields, headers=BROWSER).status_code == 202
    event = InboundEvent.objects.get()
    assert (event.name, event.phone, event.email, event.postal_code, event.country, event.company) == expected


def test_autofill_address_and_cf7_subject_reach_the_message(demo, post):
    post(AUTOFILL)
    post({"your-name": "Al", "your-email": "al@example.com", "your-subject": "Gutters", "your-message": "Hi"})
    autofill, cf7 = InboundEvent.objects.order_by("pk")
    assert autofill.message == "Gutters are overflowing\n\naddress: 12 Elm St, Austin, TX"
    assert cf7.message == "Hi\n\nyour-subject: Gutters"


def test_a_country_name_nobody_has_is_kept_in_the_message_not_refused(demo, post):
    assert post({**FORM, "country": "Narnia"}, headers=BROWSER).status_code == 202
    event = InboundEvent.objects.get()
    assert event.country == "" and event.message.endswith("country: Narnia")


def test_gravity_forms_ids_are_mapped_by_the_forms_field_map(demo, post):
    webform = WebForm.objects.get(slug="website-quote")
    webform.field_map = {"input_1.3": "first_name", "input_1.6": "last_name", "input_2": "email", "input_4": "message"}
    webform.full_clean()
    webform.save()
    fields = {"input_1.3": "Rosa", "input_1.6": "Diaz", "input_2": "rosa@example.com", "input_4": "Roof leak"}
    fields |= {"is_submit_1": "1", "gform_submit": "1", "gform_unique_id": "", "state_1": "WyJbXSIsIjZiZ"}
    assert post(fields, headers=BROWSER).status_code == 202
    event = InboundEvent.objects.get()
    assert (event.name, event.email, event.message) == ("Rosa Diaz", "rosa@example.com", "Roof leak")
    webform.field_map = {"input_9": "favourite_colour"}
    with pytest.raises(ValidationError, match="favourite_colour"):
        webform.full_clean()


def test_honeypot_catch_is_kept_as_suspected_spam_in_noise_and_never_answered(demo, post, client, sms_outbox):
    WebForm.objects.filter(slug="website-quote").update(thank_you_url="https://example.com/thanks")
    response = post({**FORM, "website": "http://spam.example", "consent": "on"}, headers=BROWSER)
    assert response.status_code == 303, "a bot is thanked like anyone"
    event = InboundEvent.objects.get()
    assert event.payload["suspected_spam"] == {"reason": "honeypot", "field": "website"}
    assert event.payload["website"] == "http://spam.example"
    lead = event.lead
    assert (lead.stage, lead.qualification["intent"], lead.qualification["provider"]) == ("spam", "spam", "capture")
    assert lead.owner is None and not Action.objects.filter(lead=lead).exists() and sms_outbox == []
    assert not ConsentRecord.objects.exists(), "a box a bot ticked is nobody's consent"
    client.login(username="manager", password="demo")
    noise = client.get("/portal/leads/", {"stage": "noise"})
    assert "Rosa Diaz" in noise.content.decode()
    assert "Rosa Diaz" not in client.get("/portal/leads/", {"stage": "new"}).content.decode()


def test_the_pipeline_task_leaves_a_suspected_event_unanswered_even_on_a_known_lead(demo, post, sms_outbox):
    post(FORM)
    lead = Lead.objects.get()
    answered = Action.objects.filter(lead=lead).count()
    stage, intent = lead.stage, lead.qualification["intent"]
    Client(REMOTE_ADDR="198.51.100.4").post(URL, {**FORM, "website": "x", "message": "please call me"})
    caught = InboundEvent.objects.get(payload__suspected_spam__reason="honeypot")
    assert caught.lead == lead and caught.processed_at is None
    event_process(caught.pk)
    caught.refresh_from_db()
    lead.refresh_from_db()
    assert caught.processed_at is not None
    assert (lead.stage, lead.qualification["intent"]) == (stage, intent), "a bot's post says nothing of the person"
    assert Action.objects.filter(lead=lead).count() == answered


def test_a_form_with_no_honeypot_takes_a_website_field_as_an_answer(demo, post):
    WebForm.objects.filter(slug="website-quote").update(honeypot_field="")
    post({**FORM, "website": "https://diazbakery.example"})
    event = InboundEvent.objects.get()
    assert "suspected_spam" not in event.payload and event.message.endswith("website: https://diazbakery.example")


def test_a_posted_field_named_like_our_marks_cannot_mark_or_unmark_spam(demo, post):
    post({**FORM, "suspected_spam": "no", "form_post": "x"})
    event = InboundEvent.objects.get()
    assert "suspected_spam" not in event.payload and event.payload["suspected_spam (posted)"] == "no"
    assert event.lead.stage != "spam"


@pytest.mark.parametrize(
    "kwargs",
    [{"content_type": "application/json"}, {"headers": {"Accept": "application/json"}}],
    ids=["json-body", "accept-json"],
)
def test_a_json_client_always_gets_json_errors(demo, post, settings, kwargs):
    def check(response, status, key):
        assert response.status_code == status
        assert response["Content-Type"] == "application/json", response.content[:200]
        assert key in response.json()

    check(post({**FORM, "phone": "12"}, **kwargs), 400, "phone")
    check(Client().post("/capture/form/nope/", FORM, **kwargs), 404, "detail")
    check(Client().get(URL, headers={"Accept": "application/json"}), 405, "detail")
    big = {**FORM, "message": "x" * (300 * 1024)}
    check(post(big, **kwargs), 413, "body")
    check(post("<lead/>", content_type="application/xml", headers={"Accept": "application/json"}), 415, "content_type")
    settings.FORM_RATE_LIMIT_PER_MINUTE = 0
    limited = post(FORM, **kwargs)
    check(limited, 429, "detail")
    assert 0 < int(limited["Retry-After"]) <= 60
    assert InboundEvent.objects.count() == 0, "a JSON client past the limit can retry: nothing is kept"


def test_a_browser_gets_pages_for_errors(demo, post, settings):
    def check(response, status, text):
        assert response.status_code == status
        assert response["Content-Type"].startswith("text/html")
        assert text in response.content.decode()

    check(post({**FORM, "phone": "12"}, headers=BROWSER), 400, "phone")
    check(Client().post("/capture/form/nope/", FORM, headers=BROWSER), 404, "No active form")
    check(Client().get(URL, headers=BROWSER), 405, "form posts only")
    check(post({**FORM, "message": "x" * (300 * 1024)}, headers=BROWSER), 413, "body")
    check(post("<lead/>", content_type="application/xml", headers=BROWSER), 415, "content_type")
    settings.FORM_MAX_BODY_BYTES = 1000
    photo = multipart(FORM.items(), files=[("photo", "roof.jpg", "image/jpeg", b"\0" * 2000)])
    check(post(photo, content_type=MULTIPART, headers=BROWSER), 413, "body")
    assert InboundEvent.objects.count() == 0


def test_csrf_refusals_are_json_for_json_clients(db):
    client = Client(enforce_csrf_checks=True)
    as_json = client.post("/accounts/login/", {"username": "x"}, headers={"Accept": "application/json"})
    assert as_json.status_code == 403 and as_json.json()["detail"].startswith("CSRF check failed")
    as_page = client.post("/accounts/login/", {"username": "x"}, headers=BROWSER)
    assert as_page.status_code == 403 and as_page["Content-Type"].startswith("text/html")


def test_malformed_json_is_400(demo, post):
    response = post("{oops", content_type="application/json")
    assert response.status_code == 400
    assert "body" in response.json()


def test_unknown_or_inactive_form_is_404(demo, post, client):
    assert client.post("/capture/form/nope/", FORM).status_code == 404
    WebForm.objects.update(active=False)
    assert post(FORM).status_code == 404


def test_a_suspected_post_with_a_known_leads_email_fills_nothing_on_that_lead(demo, post, api):
    """Anyone can type someone's email beside a stranger's number: the catch is kept, the lead is not changed."""
    api.post("/api/v1/events/", {"channel": "api", "source": "crm", "email": "ines@example.com"}, format="json")
    bot = {"name": "Ines", "email": "ines@example.com", "phone": "512 867 0777", "website": "http://spam.example"}
    post({**bot, "message": "hi"}, headers=BROWSER)
    lead = Lead.objects.get(email="ines@example.com")
    assert lead.events.filter(payload__has_key="suspected_spam").exists()
    assert (lead.phone, lead.name) == ("", ""), "the bot's number and name are not the lead's"
