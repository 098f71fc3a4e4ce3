import pytest

from approvals.models import Action

HTMX = {"HX-Request": "true"}


@pytest.fixture
def pending(demo, capture):
    """A captured lead's first response, waiting in rep1's queue."""
    lead_id = capture(phone="+15128670005", name="Noor Haddad", message="Window install estimate?").json()["lead"]
    return Action.objects.get(lead_id=lead_id)


@pytest.fixture
def rep1(client, demo):
    client.login(username="rep1", password="demo")
    return client
