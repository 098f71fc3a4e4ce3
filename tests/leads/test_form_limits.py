"""The per-visitor limit of the public form (and the chat box) behind a load balancer, and who the visitor is.

The load balancer connects from 10.0.0.5 and appends the address it saw to X-Forwarded-For, as AWS ALB, nginx
(``$proxy_add_x_forwarded_for``) and Google's balancers do; anything left of that entry is what the client sent.
"""

from types import SimpleNamespace

import pytest
from django.test import Client

from approvals.models import Action
from config import ratelimit
from integrations.models import ChatWidget
from leads.models import ConsentRecord, InboundEvent, Lead

pytestmark = pytest.mark.django_db

URL = "/capture/form/website-quote/"
BALANCER = "10.0.0.5"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def form(n: int) -> dict:
    return {"name": f"Visitor {n}", "phone": f"512-555-{n:04d}", "message": "Gutter quote please"}


@pytest.fixture(autouse=True)
def one_minute(monkeypatch):
    """Every post of a test falls in the same one-minute window of the limit."""
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


@pytest.fixture
def behind_balancer(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.FORM_RATE_LIMIT_PER_MINUTE = 20


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    def _post(data, *, remote=BALANCER, forwarded=None, **kwargs):
        headers = {**kwargs.pop("headers", {}), **({"X-Forwarded-For": forwarded} if forwarded else {})}
        with django_capture_on_commit_callbacks(execute=True):
            return Client(REMOTE_ADDR=remote).post(URL, data, headers=headers, **kwargs)

    return _post


def test_25_visitors_behind_one_balancer_are_each_accepted(demo, behind_balancer, post):
    codes = [post(form(n), forwarded=f"198.51.100.{n}").status_code for n in range(1, 26)]
    assert codes == [202] * 25
    assert InboundEvent.objects.count() == 25 and Lead.objects.count() == 25
    assert not InboundEvent.objects.filter(payload__has_key="suspected_spam").exists()


def test_one_visitor_hammering_is_limited_and_cannot_spoof_their_way_out(demo, behind_balancer, post, settings):
    settings.FORM_RATE_LIMIT_PER_MINUTE = 3
    # Each post claims another origin on the left; the balancer's own entry on the right is the same visitor.
    codes = [
        post(form(n), forwarded=f"192.0.2.{n}, 203.0.113.50", content_type="application/json").status_code
        for n in range(1, 6)
    ]
    assert codes == [202, 202, 202, 429, 429]
    assert InboundEvent.objects.count() == 3
    assert post(form(9), forwarded="203.0.113.51", content_type="application/json").status_code == 202


def test_not_behind_a_proxy_the_forwarded_header_is_ignored(demo, post, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.FORM_RATE_LIMIT_PER_MINUTE = 2
    codes = [
        post(form(n), remote="203.0.113.60", forwarded=f"198.51.100.{n}", content_type="application/json").status_code
        for n in range(1, 4)
    ]
    assert codes == [202, 202, 429]
    post({**form(7), "consent": "on"}, remote="203.0.113.61", forwarded="198.51.100.99")
    assert ConsentRecord.objects.get().ip == "203.0.113.61"


def test_consent_evidence_keeps_the_visitors_address_not_the_balancers(demo, behind_balancer, post):
    post({**form(1), "consent": "on", "consent_text": "Text me"}, forwarded="1.2.3.4, 198.51.100.77")
    assert ConsentRecord.objects.get().ip == "198.51.100.77"


def test_two_proxies_read_the_second_entry_from_the_right(demo, post, settings):
    settings.TRUSTED_PROXY_COUNT = 2  # a CDN in front of the balancer
    settings.FORM_RATE_LIMIT_PER_MINUTE = 1
    one = post({**form(1), "consent": "on"}, forwarded="6.6.6.6, 198.51.100.8, 172.70.1.1")
    two = post(form(2), forwarded="7.7.7.7, 198.51.100.8, 172.70.1.2", content_type="application/json")
    other = post(form(3), forwarded="198.51.100.9, 172.70.1.1", content_type="application/json")
    assert (one.status_code, two.status_code, other.status_code) == (202, 429, 202)
    assert ConsentRecord.objects.get().ip == "198.51.100.8"


def test_an_ipv6_visitor_cannot_rotate_through_its_own_64(demo, post, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.FORM_RATE_LIMIT_PER_MINUTE = 2
    codes = [
        post(form(n), remote=f"2001:db8:1:2::{n:x}", content_type="application/json").status_code for n in range(1, 4)
    ]
    assert codes == [202, 202, 429]
    assert post(form(8), remote="2001:db8:1:3::1", content_type="application/json").status_code == 202


def test_a_browser_past_the_limit_is_kept_as_suspected_spam_until_a_flood(demo, behind_balancer, post, settings):
    """A shared office or carrier address can carry several real people: a browser's post past the limit is kept,
    never answered, in Noise for a person to look at; past the second allowance it is a flood and refused."""
    settings.FORM_RATE_LIMIT_PER_MINUTE, settings.FORM_RATE_LIMIT_KEEP_PER_MINUTE = 2, 2
    responses = [post(form(n), forwarded="203.0.113.70", headers=BROWSER) for n in range(1, 6)]
    assert [r.status_code for r in responses] == [202, 202, 429, 429, 429]
    assert "we have your request" in responses[2].content.decode() and responses[2]["Retry-After"]
    assert "try again in a minute" in responses[4].content.decode()
    assert InboundEvent.objects.count() == 4
    kept = Lead.objects.filter(events__payload__suspected_spam__reason="rate_limit")
    assert sorted(kept.values_list("name", flat=True)) == ["Visitor 3", "Visitor 4"]
    assert {lead.stage for lead in kept} == {"spam"}
    assert not Action.objects.filter(lead__in=kept).exists()
    assert Action.objects.filter(lead__name="Visitor 1").exists()


def test_the_chat_box_limits_each_visitor_behind_the_balancer(demo, behind_balancer, settings):
    ChatWidget.objects.create(slug="site", name="Chat", source="website-chat", allowed_origins="https://a.example")
    settings.CHAT_RATE_LIMIT_PER_MINUTE = 1

    def say(visitor: str, n: int) -> int:
        body = {"client_id": f"client{n:05d}", "text": "Roof quote", "email": f"v{n}@example.com"}
        headers = {"Origin": "https://a.example", "X-Forwarded-For": visitor}
        client = Client(REMOTE_ADDR=BALANCER)
        url = "/integrations/chat/site/messages/"
        return client.post(url, body, content_type="application/json", headers=headers).status_code

    assert [say(f"198.51.100.{n}", n) for n in range(1, 4)] == [202, 202, 202]
    assert say("198.51.100.1", 9) == 429
