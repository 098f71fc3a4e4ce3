"""Who may do what: anonymous, an API key, the lead's rep, another rep and a manager, against every API endpoint
and portal screen. Each cell runs on fresh data (a lead of rep1's with a waiting draft and a cadence running);
only the cells marked allowed may succeed, every other one must be refused (401, 403 or 404, or the login page)."""

from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.test import APIClient

from approvals.models import Action
from integrations.models import ApiKey
from leads.models import Lead
from routing.cadences import enrollment_create
from routing.models import Cadence
from tests.conftest import user
from tests.factories import ActionFactory, LeadFactory

pytestmark = pytest.mark.django_db

WHO = ("anonymous", "api_key", "rep", "other_rep", "manager")
EVERYONE = frozenset(WHO) - {"anonymous"}
PEOPLE = frozenset({"rep", "other_rep", "manager"})
OWNERS = frozenset({"api_key", "rep", "manager"})  # the lead's own rep, managers, integrations
OWNING_PEOPLE = frozenset({"rep", "manager"})
MANAGERS = frozenset({"manager"})
MANAGERS_AND_KEYS = frozenset({"api_key", "manager"})


@dataclass(frozen=True)
class Cell:
    method: str
    path: str  # {lead}, {action}, {enrollment} are filled in per cell
    allowed: frozenset
    body: dict | None = None
    portal: bool = False


API = [
    Cell("post", "/api/v1/events/", EVERYONE, {"channel": "api", "source": "crm", "phone": "+15128670999"}),
    Cell("post", "/api/v1/simulate/", MANAGERS_AND_KEYS, {"channel": "form", "source": "web", "phone": "+15128670998"}),
    Cell("get", "/api/v1/leads/", EVERYONE),
    Cell("get", "/api/v1/leads/{lead}/", OWNERS),
    Cell("get", "/api/v1/leads/{lead}/timeline/", OWNERS),
    Cell("patch", "/api/v1/leads/{lead}/", OWNERS, {"stage": "contacted"}),
    Cell("get", "/api/v1/actions/", EVERYONE),
    Cell("get", "/api/v1/actions/{action}/", OWNERS),
    Cell("post", "/api/v1/actions/", OWNERS, {"lead": "{lead}", "workflow": "follow_up", "body": "Checking in"}),
    Cell("post", "/api/v1/actions/{action}/approve/", OWNING_PEOPLE),
    Cell("post", "/api/v1/actions/{action}/edit/", OWNING_PEOPLE, {"body": "Edited"}),
    Cell("post", "/api/v1/actions/{action}/reject/", OWNING_PEOPLE, {"reason": "No"}),
    Cell("post", "/api/v1/actions/{action}/snooze/", OWNING_PEOPLE, {"minutes": 15}),
    Cell("get", "/api/v1/cadences/", EVERYONE),
    Cell("get", "/api/v1/enrollments/{enrollment}/", OWNERS),
    Cell("post", "/api/v1/enrollments/", OWNERS, {"lead": "{lead}", "cadence": "{review}"}),
    Cell("post", "/api/v1/enrollments/{enrollment}/pause/", OWNERS),
    Cell("post", "/api/v1/enrollments/{enrollment}/stop/", OWNERS),
]
PORTAL = [
    Cell("get", "/portal/queue/", PEOPLE, portal=True),
    Cell("get", "/portal/leads/", PEOPLE, portal=True),
    Cell("get", "/portal/leads/{lead}/", OWNING_PEOPLE, portal=True),
    Cell("post", "/portal/leads/{lead}/reply/", OWNING_PEOPLE, {"body": "Hello"}, portal=True),
    Cell("post", "/portal/leads/{lead}/call/", OWNING_PEOPLE, {"note": "Called"}, portal=True),
    Cell("post", "/portal/leads/{lead}/stage/", OWNING_PEOPLE, {"stage": "contacted"}, portal=True),
    Cell("post", "/portal/leads/{lead}/reassign/", MANAGERS, {"rep": "{rep2}"}, portal=True),
    Cell("post", "/portal/leads/{lead}/contact/", MANAGERS, {"phone": "+15128670997"}, portal=True),
    Cell("post", "/portal/actions/{action}/approve/", OWNING_PEOPLE, portal=True),
    Cell("post", "/portal/actions/{action}/reject/", OWNING_PEOPLE, {"reason": "No"}, portal=True),
    Cell("post", "/portal/leads/{lead}/enrollments/", OWNING_PEOPLE, {"cadence": "{review}"}, portal=True),
    Cell("post", "/portal/enrollments/{enrollment}/stop/", OWNING_PEOPLE, portal=True),
    Cell("get", "/portal/autonomy/", MANAGERS, portal=True),
    Cell("get", "/portal/cadences/", MANAGERS, portal=True),
    Cell("get", "/portal/reports/", MANAGERS, portal=True),
    Cell("get", "/portal/reports/leaks/slow/", MANAGERS, portal=True),
    Cell("get", "/portal/log/", MANAGERS, portal=True),
    Cell("get", "/admin/routing/cadence/", MANAGERS, portal=True),
]


def client_for(who: str, *, portal: bool):
    client = Client() if portal else APIClient()
    if who == "api_key":
        _, raw = ApiKey.issue("matrix")
        if portal:
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
        else:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    elif who != "anonymous":
        client.force_login(user({"rep": "rep1", "other_rep": "rep2", "manager": "manager"}[who]))
    return client


def fill(value, ids: dict):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def refused(response, cell: Cell) -> bool:
    if cell.portal and response.status_code == 302:
        return "login/" in response["Location"]  # the portal's or the admin's login page
    return response.status_code in (401, 403, 404) or (response.status_code == 400 and "lead" in response.json())


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("cell", API + PORTAL, ids=lambda c: f"{c.method} {c.path}")
def test_only_the_allowed_cells_succeed(demo, cell, who):
    lead = LeadFactory(owner=user("rep1"), timezone="UTC")
    action = ActionFactory(lead=lead)
    enrollment = enrollment_create(cadence=Cadence.objects.get(name="Quote follow-up"), lead=lead, trigger="test")
    ids = {
        "lead": lead.pk,
        "action": action.pk,
        "enrollment": enrollment.pk,
        "review": Cadence.objects.get(name="Review request").pk,
        "rep2": user("rep2").rep.pk,
    }
    client = client_for(who, portal=cell.portal)
    path, body = fill(cell.path, ids), fill(cell.body or {}, ids)
    if cell.method == "get":
        response = client.get(path)
    else:
        kwargs = {} if cell.portal else {"format": "json"}
        response = getattr(client, cell.method)(path, body, **kwargs)
    if who in cell.allowed:
        assert response.status_code < 400 and not refused(response, cell), (who, path, response.status_code)
    else:
        assert refused(response, cell), (who, path, response.status_code, response.content[:200])
    if who not in cell.allowed and cell.method != "get":
        assert Action.objects.get(pk=action.pk).status == "pending", "a refused request changed nothing"
        assert Lead.objects.get(pk=lead.pk).stage == lead.stage
