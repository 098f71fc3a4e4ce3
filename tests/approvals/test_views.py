import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import Action
from tests.approvals.conftest import HTMX
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_queue_requires_login(client, demo):
    response = client.get("/portal/queue/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_queue_shows_the_draft_with_inbound_and_reasoning(rep1, pending):
    html = rep1.get("/portal/queue/").content.decode()
    assert f'id="action-{pending.pk}"' in html
    assert "Window install estimate?" in html
    assert "Hi Noor" in html
    assert "confidence" in html


def test_empty_queue_says_so(rep1, demo):
    assert "Nothing waiting" in rep1.get("/portal/queue/").content.decode()


def test_edit_mode_then_save_and_approve(rep1, pending, sms_outbox, django_capture_on_commit_callbacks):
    form = rep1.get(f"/portal/actions/{pending.pk}/?mode=edit", headers=HTMX).content.decode()
    assert "<textarea" in form and "Save and approve" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = rep1.post(f"/portal/actions/{pending.pk}/approve/", {"body": "Hi Noor — Ana here."}, headers=HTMX)
    assert response.status_code == 200
    assert "action-decided" in response["HX-Trigger"]
    assert "<html" not in response.content.decode(), "HTMX gets the row partial only"
    assert sms_outbox[0]["body"] == "Hi Noor — Ana here."
    pending.refresh_from_db()
    assert pending.status == Action.Status.DONE


def test_double_click_approve_sends_once(rep1, pending, sms_outbox, django_capture_on_commit_callbacks):
    url = f"/portal/actions/{pending.pk}/approve/"
    with django_capture_on_commit_callbacks(execute=True):
        first = rep1.post(url, headers=HTMX)
    with django_capture_on_commit_callbacks(execute=True):
        second = rep1.post(url, headers=HTMX)
    assert first.status_code == 200
    assert second.status_code == 409
    assert "already done" in second.content.decode()
    assert len(sms_outbox) == 1


def test_too_long_sms_is_refused_in_place(rep1, pending, sms_outbox):
    response = rep1.post(f"/portal/actions/{pending.pk}/approve/", {"body": "y" * 200 + "…" * 30}, headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "4 segments · UCS-2 because of …; the limit is 3. Use ... instead of …: 2 segments · GSM-7." in html
    assert "<textarea" in html
    assert sms_outbox == []


def test_save_draft_keeps_it_pending(rep1, pending):
    response = rep1.post(f"/portal/actions/{pending.pk}/edit/", {"body": "Shorter text"}, headers=HTMX)
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == Action.Status.PENDING and pending.body == "Shorter text" and pending.edited


def test_reject_with_reason(rep1, pending):
    assert rep1.post(f"/portal/actions/{pending.pk}/reject/", {"reason": ""}, headers=HTMX).status_code == 422
    response = rep1.post(f"/portal/actions/{pending.pk}/reject/", {"reason": "Duplicate"}, headers=HTMX)
    assert response.status_code == 200 and "Rejected" in response.content.decode()


def test_stale_page_shows_the_other_persons_decision(client, demo, pending):
    client.login(username="manager", password="demo")
    client.post(f"/portal/actions/{pending.pk}/reject/", {"reason": "Spam caller"}, headers=HTMX)
    client.logout()
    client.login(username="rep1", password="demo")
    response = client.post(f"/portal/actions/{pending.pk}/approve/", headers=HTMX)
    assert response.status_code == 409
    assert "rejected by manager" in response.content.decode()


def test_other_rep_gets_404(client, demo, pending):
    client.login(username="rep2", password="demo")
    assert client.post(f"/portal/actions/{pending.pk}/approve/", headers=HTMX).status_code == 404
    assert client.get(f"/portal/actions/{pending.pk}/", headers=HTMX).status_code == 404
    assert client.get(f"/portal/leads/{pending.lead_id}/").status_code == 404
    assert f"action-{pending.pk}" not in client.get("/portal/queue/").content.decode()


def test_manager_sees_every_queue_and_filters_by_rep(client, demo, capture):
    for n in range(3):
        capture(phone=f"+1512867100{n}", message="Roof quote")
    client.login(username="manager", password="demo")
    assert client.get("/portal/queue/").content.decode().count('class="card action') == 3
    rep2_id = Action.objects.filter(lead__owner__username="rep2").values_list("lead__owner_id", flat=True)[0]
    filtered = client.get(f"/portal/queue/?rep={rep2_id}", headers={**HTMX, "HX-Target": "queue-rows"})
    assert filtered.content.decode().count('class="card action') == 1


def test_queue_query_count_does_not_grow(client, demo, capture):
    client.login(username="rep1", password="demo")
    counts = []
    for batch in (1, 10):
        for n in range(batch):
            capture(phone=f"+15128672{batch:02d}{n:01d}", message="Roof quote")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/portal/queue/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 8, counts


def test_lead_page_and_list(rep1, pending):
    detail = rep1.get(f"/portal/leads/{pending.lead_id}/").content.decode()
    assert "Timeline" in detail and "Window install estimate?" in detail and "round-robin" in detail
    listing = rep1.get("/portal/leads/?q=noor").content.decode()
    assert "Noor Haddad" in listing
    assert "No leads match these filters" in rep1.get("/portal/leads/?q=nobody").content.decode()
    LeadFactory()  # someone else's lead never shows
    assert re.findall(r'href="/portal/leads/(\d+)/"', rep1.get("/portal/leads/").content.decode()) == [
        str(pending.lead_id)
    ]
