"""The lead page's privacy screens: a manager exports or forgets the person; a rep cannot."""

import pytest
from django.test import Client

from leads.models import Lead
from leads.privacy import FORGOTTEN_NAME
from tests.conftest import user

pytestmark = pytest.mark.django_db
PHONE = "+15128670199"


@pytest.fixture
def lead(demo, capture):
    return Lead.objects.get(pk=capture(phone=PHONE, name="Zebulon Quarterfield", message="Roof quote").json()["lead"])


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


def test_a_manager_sees_export_and_forget_and_a_rep_does_not(lead):
    page = client_for("manager").get(f"/portal/leads/{lead.pk}/").content.decode()
    assert "Export (JSON)" in page and "Forget this person" in page
    page = client_for(lead.owner.username).get(f"/portal/leads/{lead.pk}/").content.decode()
    assert "Export (JSON)" not in page and "Forget this person" not in page


def test_a_rep_cannot_export_or_forget(lead):
    owner = client_for(lead.owner.username)
    other = client_for(next(name for name in ("rep1", "rep2", "rep3") if name != lead.owner.username))
    for url in (f"/portal/leads/{lead.pk}/forget/", f"/portal/leads/{lead.pk}/export.json"):
        assert owner.get(url).status_code == 403
        assert other.get(url).status_code == 404
    assert owner.post(f"/portal/leads/{lead.pk}/forget/", {"confirm": "forget"}).status_code == 403
    assert other.post(f"/portal/leads/{lead.pk}/forget/", {"confirm": "forget"}).status_code == 404
    lead.refresh_from_db()
    assert lead.phone == PHONE and lead.forgotten_at is None


def test_a_manager_confirms_by_typing_the_word_then_the_tombstone_shows(lead):
    manager = client_for("manager")
    url = f"/portal/leads/{lead.pk}/forget/"
    confirm = manager.get(url)
    assert confirm.status_code == 200 and "Type <strong>forget</strong>" in confirm.content.decode()

    refused = manager.post(url, {"confirm": "yes", "reason": "request 9"})
    assert refused.status_code == 422 and "cannot be undone" in refused.content.decode()
    lead.refresh_from_db()
    assert lead.forgotten_at is None

    done = manager.post(url, {"confirm": " Forget ", "reason": "request 9"})
    assert done.status_code == 302 and done["Location"] == f"/portal/leads/{lead.pk}/"
    lead.refresh_from_db()
    assert lead.name == FORGOTTEN_NAME and lead.phone == "" and lead.forgotten_at is not None
    page = manager.get(done["Location"]).content.decode()
    assert "This person was forgotten" in page and "Forget this person" not in page
    assert "Zebulon" not in page and PHONE not in page


def test_a_manager_downloads_the_export(lead):
    response = client_for("manager").get(f"/portal/leads/{lead.pk}/export.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="person-lead-{lead.pk}.json"'
    export = response.json()
    assert export["person"]["lead_ids"] == [lead.pk] and export["leads"][0]["phone"] == PHONE
    assert lead.decisions.filter(step="privacy", actor__username="manager").exists()
