"""Seeding the demo's history in tests: at a fixed end, so the same days always give the same rows."""

from io import StringIO

from django.core.management import call_command
from django.test import override_settings

from approvals.models import Action
from audit.models import Decision
from leads.models import InboundEvent, Lead, Message
from routing.models import Assignment, Enrollment, StepRun

UNTIL = "2026-11-30T15:00:00+00:00"
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
COUNTED = (Lead, InboundEvent, Assignment, Action, Message, Enrollment, StepRun, Decision)


def seed(*extra: str, days: int = 14) -> str:
    """``seed_demo --force --history days`` plus ``extra`` options; returns what it printed."""
    out = StringIO()
    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        call_command("seed_demo", "--force", "--history", str(days), *extra, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}
