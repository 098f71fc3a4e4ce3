"""The pipeline's writes to the lead: what its history keeps, whether or not anyone can take the lead."""

import pytest

from approvals.models import Policy
from leads.models import Lead
from routing.models import Rep
from tests.conftest import policy_set

pytestmark = pytest.mark.django_db

BODY = {"phone": "+15128670301", "message": "Need a roof quote, budget $12k, 30301"}


def test_the_qualification_and_the_owner_are_one_change_in_the_leads_history(demo, capture, api):
    policy_set("first_response", mode=Policy.Mode.DRAFT)  # nothing sent: only the pipeline's own save
    lead = Lead.objects.get(pk=capture(**BODY).json()["lead"])
    (row,) = lead.history.all()
    assert row.owner_id == lead.owner_id is not None and row.stage == "qualified" and row.score == lead.score
    assert row.history_change_reason == f"qualified by the rules provider; routed to {lead.owner.get_full_name()}"
    changes = [e for e in api.get(f"/api/v1/leads/{lead.pk}/timeline/").json() if e["kind"] == "change"]
    assert [(c["title"], c["changes"]) for c in changes] == [("Changed owner", [["owner", "–", "Ana Rep"]])]


def test_a_lead_nobody_can_take_still_keeps_its_qualification(demo, capture, api):
    for rep in Rep.objects.all():
        rep.active = False
        rep.save()  # save(), not update(): the routing snapshot follows saves
    policy_set("first_response", mode=Policy.Mode.DRAFT)
    lead = Lead.objects.get(pk=capture(**BODY).json()["lead"])
    assert lead.owner_id is None and lead.stage == "qualified" and lead.score and lead.qualification
    (row,) = lead.history.all()
    assert row.owner_id is None and row.history_change_reason == "qualified by the rules provider"
    assert [e for e in api.get(f"/api/v1/leads/{lead.pk}/timeline/").json() if e["kind"] == "change"] == []
