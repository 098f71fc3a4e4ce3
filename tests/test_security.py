"""Deployment checks, security headers, CSRF on every portal form, and what the logs may never hold."""

import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern

from config.urls import portal_patterns
from tests.conftest import user
from tests.integrations.twilio_helpers import signed_post, sms_params, twilio_settings  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
PHONE = "+15128670100"


def test_check_deploy_is_clean_with_production_settings():
    # Not the test session's own switches (the browser tests allow async-unsafe ORM calls): a deployment's.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": "nightshift.example.com",
    }
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_and_no_framing():
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0], "no inline script"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response, "never over plain HTTP"
    docs = Client().get("/api/docs/").content.decode()
    assert "<script>" not in docs, "the API docs page loads its script as a file"


@pytest.mark.django_db
def test_hsts_is_sent_on_https_when_configured(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def portal_paths() -> list[str]:
    """Every portal URL, its parameters filled with sample values."""
    paths = []
    for pattern in portal_patterns:
        assert isinstance(pattern, URLPattern)
        route = re.sub(r"<int:\w+>", "1", str(pattern.pattern))
        paths.append("/portal/" + re.sub(r"<slug:\w+>", "pause", route))
    return paths


@pytest.mark.django_db
@pytest.mark.parametrize("path", portal_paths())
def test_every_portal_form_refuses_a_post_without_the_csrf_token(demo, path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user("manager"))
    response = client.post(path, {"body": "hello"})
    assert response.status_code == 403, f"{path} answered {response.status_code}"
    assert b"CSRF" in response.content


@pytest.mark.django_db
def test_logs_never_hold_full_phone_numbers_or_secrets(
    demo,
    api,
    api_key,
    twilio_settings,  # noqa: F811 - the fixture imported above
    caplog,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.METRICS_TOKEN = "metrics-" + secrets.token_hex(8)
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        captured = api.post(
            "/api/v1/events/",
            {"channel": "form", "source": "web", "phone": PHONE, "name": "Dana", "message": "Roof quote, 30301"},
            format="json",
        )
    assert captured.status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            signed_post(Client(), "/integrations/twilio/sms/", sms_params(body="STOP", sender=PHONE)).status_code == 200
        )
        signed_post(Client(), "/integrations/twilio/sms/", sms_params(sid="SM" + "b" * 32, sender=PHONE))
    Client().get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert caplog.records, "the flow logged"
    secrets_seen = [api_key, settings.TWILIO_AUTH_TOKEN, settings.METRICS_TOKEN, settings.SECRET_KEY]
    for record in caplog.records:
        text = record.getMessage() + " " + " ".join(str(v) for v in vars(record).values())
        assert PHONE[2:] not in text, f"full phone number in {record.name}: {record.getMessage()}"
        assert not any(secret and secret in text for secret in secrets_seen), f"a secret in {record.name}"
