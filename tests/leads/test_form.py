import time

import pytest
from django.test import Client

from leads.models import InboundEvent, Lead, WebForm

pytestmark = pytest.mark.django_db

URL = "/capture/form/website-quote/"
FORM = {"name": "Rosa Diaz", "phone": "512-555-0199", "message": "Gutter repair please", "postal_code": "78702"}


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    client = Client(REMOTE_ADDR="203.0.113.9")

    def _post(data, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, data, **kwargs)

    return _post


def test_form_post_redirects_browser_to_thank_you_page(demo, post):
    WebForm.objects.filter(slug="website-quote").update(thank_you_url="https://example.com/thanks")
    response = post(FORM)
    assert response.status_code == 303
    assert response["Location"] == "https://example.com/thanks"
    event = InboundEvent.objects.get()
    assert (event.channel, event.source, event.lead.phone) == ("form", "website-quote", "+15125550199")
    assert event.payload["message"] == "Gutter repair please"
    assert event.lead.owner is not None, "the pipeline ran"


def test_json_post_answers_like_the_api(demo, post):
    response = post(FORM, content_type="application/json")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"event", "lead", "duplicate"}
    assert Lead.objects.filter(pk=body["lead"]).exists()


def test_form_without_thank_you_url_answers_json(demo, post):
    assert post(FORM).status_code == 202


def test_honeypot_stores_nothing_but_looks_fine(demo, post):
    response = post({**FORM, "website": "http://spam.example"}, content_type="application/json")
    assert response.status_code == 202
    assert InboundEvent.objects.count() == 0


def test_bad_phone_is_400_naming_the_field(demo, post):
    response = post({**FORM, "phone": "12"}, content_type="application/json")
    assert response.status_code == 400
    assert "phone" in response.json()
    browser = post({**FORM, "phone": "12"})
    assert browser.status_code == 400
    assert b"phone" in browser.content
    assert InboundEvent.objects.count() == 0


def test_malformed_json_is_400(demo, post):
    response = post("{oops", content_type="application/json")
    assert response.status_code == 400
    assert "body" in response.json()


def test_unknown_or_inactive_form_is_404(demo, post, client):
    assert client.post("/capture/form/nope/", FORM).status_code == 404
    WebForm.objects.update(active=False)
    assert post(FORM).status_code == 404


def test_get_is_not_allowed(demo, client):
    assert client.get(URL).status_code == 405


def test_rate_limit_per_address(demo, post, settings):
    settings.FORM_RATE_LIMIT_PER_MINUTE = 3
    if time.time() % 60 > 50:  # the limit counts per clock minute: don't let the posts straddle two
        time.sleep(61 - time.time() % 60)
    codes = [post({**FORM, "phone": f"512-555-01{n:02d}"}).status_code for n in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    assert InboundEvent.objects.count() == 3
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert other.post(URL, {**FORM, "phone": "512-555-0150"}).status_code == 202
