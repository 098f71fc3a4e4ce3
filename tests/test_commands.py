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
