import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from routing.models import Rep, RoutingRule


@pytest.mark.django_db
def test_create_api_key_prints_key_alone_on_last_line():
    out = io.StringIO()
    call_command("create_api_key", "website", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/leads/").status_code == 200
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_api_key", "website", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="debug is off"):
        call_command("seed_demo", stdout=io.StringIO())
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert Rep.objects.count() == 3 and RoutingRule.objects.count() == 4
    assert APIClient().login(username="rep2", password="demo")


@pytest.fixture
def zeb(demo, capture):
    from leads.models import Lead

    return Lead.objects.get(pk=capture(phone="+15128670199", name="Zeb Q", message="Roof quote").json()["lead"])


def test_forget_person_refuses_without_yes_when_not_interactive(zeb):
    with pytest.raises(CommandError, match="without --yes"):
        call_command("forget_person", "--phone", "+15128670199", stdout=io.StringIO())
    zeb.refresh_from_db()
    assert zeb.name == "Zeb Q" and zeb.forgotten_at is None


def test_forget_person_forgets_and_prints_what_it_removed(zeb):
    out = io.StringIO()
    call_command("forget_person", "--phone", "512 867 0199", "--yes", "--reason", "ticket 12", stdout=out)
    zeb.refresh_from_db()
    assert zeb.name == "Forgotten person" and zeb.phone == ""
    printed = out.getvalue()
    assert "1 lead(s) carry this person" in printed and "  events: 1" in printed and "Forgotten: 1 lead(s)" in printed
    assert zeb.decisions.get(step="privacy").reasoning.startswith("The person was forgotten (ticket 12)")
    with pytest.raises(CommandError, match="not a phone number"):
        call_command("forget_person", "--phone", "nope", "--yes", stdout=io.StringIO())


def test_export_person_writes_json_to_stdout_or_a_file(zeb, tmp_path):
    import json

    out = io.StringIO()
    call_command("export_person", "--phone", "+15128670199", stdout=out)
    assert json.loads(out.getvalue())["leads"][0]["name"] == "Zeb Q"
    target = tmp_path / "zeb.json"
    err = io.StringIO()
    call_command("export_person", "--phone", "+15128670199", "--out", str(target), stdout=io.StringIO(), stderr=err)
    assert json.loads(target.read_text())["person"]["lead_ids"] == [zeb.pk]
    assert f"to {target}" in err.getvalue()
    assert zeb.decisions.filter(step="privacy").count() == 2
