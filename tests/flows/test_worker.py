"""The real worker path: the task row commits with the capture, and a qcluster process picks it up."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction
from django_q.conf import Conf
from django_q.models import OrmQ

from approvals.models import Action
from leads.models import InboundEvent
from leads.services import CaptureEvent, lead_capture

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)

EVENT = CaptureEvent(channel="form", source="website", name="Wes Park", phone="+15128670300", message="Roof quote")


@pytest.fixture
def real_queue(monkeypatch):
    """Tasks go to the ORM broker as in production, not run inline."""
    monkeypatch.setattr(Conf, "SYNC", False)
    OrmQ.objects.all().delete()


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_task_row_commits_or_rolls_back_with_the_capture(demo, real_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_capture(event=EVENT)
        raise RuntimeError("request failed after capture")
    assert OrmQ.objects.count() == 0 and InboundEvent.objects.count() == 0

    lead_capture(event=EVENT)
    assert OrmQ.objects.count() == 1, "the task row is committed with the event"


def test_qcluster_processes_a_captured_lead(demo, real_queue):
    result = lead_capture(event=EVENT)
    env = {**os.environ, "DATABASE_URL": database_url(), "Q_SYNC": "false", "Q_WORKERS": "1"}
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if InboundEvent.objects.filter(pk=result.event.pk, processed_at__isnull=False).exists():
                break
            time.sleep(0.2)
        else:
            pytest.fail("the worker did not process the event within 30 s")
    finally:
        # The cluster's own process stops its workers; signalling the whole group races that.
        worker.send_signal(signal.SIGTERM)
        _, errors = worker.communicate(timeout=30)
    action = Action.objects.get(lead=result.lead)
    assert action.status == Action.Status.PENDING and action.body.startswith("Hi Wes")
    assert b"Traceback" not in errors, errors.decode()[-2000:]
