"""Every "tell the owner" path (Slack alerts, SLA alerts) reaches whoever can take the lead now, as routing sees it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import Decision
from integrations.outbound import slack_alert
from leads.models import Lead
from routing.directory import config_changed
from routing.models import Absence, Rep, Team
from routing.sla import sla_sweep
from tests.factories import UserFactory
from tests.fakes.http_server import Receiver

pytestmark = pytest.mark.django_db
LEAD = {"name": "Dana", "phone": "(415) 555-0101", "message": "Need a new roof, budget $12k", "postal_code": "30301"}


def away(*usernames: str) -> None:
    now = timezone.now()
    for username in usernames:
        rep = Rep.objects.get(user__username=username)
        Absence.objects.create(rep=rep, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=8))


@pytest.fixture
def slack(demo):
    """Sales and a fallback 'Front desk' team, each with its own Slack channel on the local fake."""
    with Receiver() as fake:
        sales = Team.objects.get(name="Sales")
        sales.is_fallback = False
        sales.slack_webhook_url = fake.url + "/services/T0/SALES/x"
        sales.save()
        desk = Team.objects.create(name="Front desk", slack_webhook_url=fake.url + "/services/T0/DESK/x")
        desk.is_fallback = True
        desk.save()
        Rep.objects.create(user=UserFactory(username="desk1", first_name="Dee", last_name="Desk"), team=desk)
        yield fake


def posted(fake: Receiver) -> list[tuple[str, str]]:
    """(channel, text) of every post so far, then forgotten."""
    calls = [(path.split("/")[3], body["text"]) for _, path, _, body in fake.calls]
    fake.calls.clear()
    return calls


def alert(lead, capture_callbacks) -> None:
    with capture_callbacks(execute=True):
        slack_alert(lead=lead, event="hot_lead", text=":fire: Hot lead")


def test_a_slack_alert_follows_who_can_take_the_lead_now(slack, capture, django_capture_on_commit_callbacks):
    lead = Lead.objects.get(pk=capture(**LEAD).json()["lead"])
    assert lead.owner.username == "rep1"
    posted(slack)
    alert(lead, django_capture_on_commit_callbacks)
    [(channel, text)] = posted(slack)
    assert channel == "SALES" and text.startswith(":fire: Hot lead\nFor Ana Rep, the owner.\n<")

    away("rep1")
    alert(lead, django_capture_on_commit_callbacks)
    [(channel, text)] = posted(slack)
    assert channel == "SALES"
    assert "\nFor Ben Rep, Cleo Rep: owner Ana Rep is away until " in text
    assert text.split("\n")[1].endswith("; working in Sales: Ben Rep, Cleo Rep.")

    away("rep2", "rep3")
    alert(lead, django_capture_on_commit_callbacks)
    [(channel, text)] = posted(slack)
    assert channel == "DESK", "the fallback team's channel"
    assert text.split("\n")[1].startswith("For Dee Desk: owner Ana Rep is away until ")
    assert text.split("\n")[1].endswith("nobody else in Sales is working; fallback team 'Front desk': Dee Desk.")

    away("desk1")
    alert(lead, django_capture_on_commit_callbacks)
    [(channel, text)] = posted(slack)
    assert channel == "SALES", "nobody can: the owner's team hears of it"
    assert text.split("\n")[1].startswith("Nobody can take it now: owner Ana Rep is away until ")


def test_an_owner_who_cannot_log_in_is_not_the_one_alerted(slack, capture, django_capture_on_commit_callbacks):
    lead = Lead.objects.get(pk=capture(**LEAD).json()["lead"])
    Rep.objects.filter(team__name="Sales").exclude(user__username="rep1").update(active=False)
    # Deactivated in bulk (no signal): they still own the lead until the lost-work sweep hands it over.
    type(lead.owner).objects.filter(pk=lead.owner_id).update(is_active=False)
    config_changed()
    posted(slack)
    alert(lead, django_capture_on_commit_callbacks)
    [(channel, text)] = posted(slack)
    assert channel == "DESK"
    assert text.split("\n")[1] == (
        "For Dee Desk: owner Ana Rep cannot log in; nobody else in Sales is working; "
        "fallback team 'Front desk': Dee Desk."
    )


def test_an_sla_alert_names_who_can_take_it_now(slack, capture, django_capture_on_commit_callbacks):
    Team.objects.filter(name="Sales").update(sla_action="alert")
    lead = Lead.objects.get(pk=capture(**LEAD).json()["lead"])
    posted(slack)
    away("rep1")
    with django_capture_on_commit_callbacks(execute=True):
        assert vars(sla_sweep(now=timezone.now() + timedelta(minutes=16)))["alerted"] == 1
    decision = Decision.objects.get(lead=lead, step="sla")
    assert "; can take it now: Ben Rep, Cleo Rep (owner Ana Rep is away until " in decision.reasoning
    assert "can take it now: Ben Rep, Cleo Rep" in mail.outbox[0].body
    [(channel, text)] = posted(slack)
    assert channel == "SALES"
    head, notify = text.split("\n")[:2]
    assert head.startswith(":alarm_clock: SLA breached: Ana Rep did not touch the lead within 15 min; managers")
    assert notify.startswith("For Ben Rep, Cleo Rep: owner Ana Rep is away until "), "said once, under the alert"

    away("rep2", "rep3", "desk1")
    lead.assignments.update(sla_due_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep(now=timezone.now() + timedelta(minutes=1))
    latest = Decision.objects.filter(lead=lead, step="sla").first()
    assert "; nobody can take it now: owner Ana Rep is away until " in latest.reasoning
    assert latest.reasoning.endswith("managers alerted (manager@example.com)")
