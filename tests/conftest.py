import pytest
from django.core.management import call_command
from django_q.conf import Conf
from rest_framework.test import APIClient

from integrations.channels import LocmemSmsBackend
from integrations.models import ApiKey


@pytest.fixture(autouse=True)
def _offline_backends(settings, monkeypatch):
    """Tasks run inline through the real task functions; SMS goes to the locmem outbox.

    The cache needs no clearing: it is the database cache, rolled back with each test.
    """
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    settings.SMS_BACKEND = "integrations.channels.LocmemSmsBackend"
    LocmemSmsBackend.outbox = []
    yield


@pytest.fixture(autouse=True)
def _daytime_sends(request, settings):
    """The suite sends at whatever hour it runs, so the executor's quiet-hours check is switched off by default
    (QUIET_HOURS_ENFORCED, a setting a deployment outside these laws may use too).

    Tests about quiet hours mark themselves ``@pytest.mark.quiet_hours`` and get the real check, at the moment they
    choose. Cadence steps are not affected: their slots are computed from the times the tests pass.
    """
    settings.QUIET_HOURS_ENFORCED = request.node.get_closest_marker("quiet_hours") is not None


@pytest.fixture
def demo(db):
    """The demo data `make demo` seeds: manager, rep1-3 in team Sales, a catch-all rule, policies, templates."""
    call_command("seed_demo", "--force", verbosity=0)


@pytest.fixture
def api_key(db):
    _, raw = ApiKey.issue("test-integration")
    return raw


@pytest.fixture
def api(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def sms_outbox():
    return LocmemSmsBackend.outbox


def user(username: str):
    """A demo user by username (manager, rep1, rep2, rep3)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def user_client(username: str) -> APIClient:
    from django.contrib.auth import get_user_model

    client = APIClient()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def capture(api, django_capture_on_commit_callbacks):
    """Post an event through the API and run what it queues on commit (the pipeline)."""

    def _capture(expect=202, headers=None, **body):
        body.setdefault("channel", "form")
        body.setdefault("source", "website")
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post("/api/v1/events/", body, format="json", headers=headers or {})
        assert response.status_code == expect, response.content
        return response

    return _capture


@pytest.fixture
def everywhere(demo, capture, django_capture_on_commit_callbacks, monkeypatch):
    """A person held in every kind of row (tests/people.py); their lead. For the export and erasure tests."""
    from tests.people import remember_everywhere

    return remember_everywhere(capture, django_capture_on_commit_callbacks, monkeypatch)


def killed_mid_send(action, *, provider_got_it: bool) -> None:
    """A worker claims the action and is killed, before or after the provider took the message."""
    from datetime import timedelta

    from django.utils import timezone

    from approvals.models import Action
    from approvals.services.execution import _claim
    from approvals.tasks import executions_stalled
    from integrations.channels import get_sms_backend

    _, message = _claim(action.pk)
    if provider_got_it:
        get_sms_backend().send(to=message.to, body=message.body)
    assert executions_stalled() == 0, "a send in progress is left alone"
    Action.objects.filter(pk=action.pk).update(updated_at=timezone.now() - timedelta(minutes=11))


def policy_set(workflow: str, **fields) -> None:
    """Change a workflow's Policy as the admin does: through save(), which every process's policy snapshot hears."""
    from approvals.models import Policy

    policy = Policy.objects.get(workflow=workflow)
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.save()


def pytest_terminal_summary(terminalreporter):
    """How many browser tests ran: a run where Chromium was skipped says so at the end, not only in a letter 's'."""
    reports = [
        r
        for key in ("passed", "failed", "skipped", "error")
        for r in terminalreporter.stats.get(key, [])
        if getattr(r, "nodeid", "").startswith("tests/e2e/") and (r.when == "call" or r.skipped)
    ]
    if reports:
        ran = sum(1 for r in reports if not r.skipped)
        terminalreporter.write_line(f"browser tests (Chromium): {ran} ran, {len(reports) - ran} skipped")
