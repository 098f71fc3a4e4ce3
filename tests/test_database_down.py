"""While the database cannot be reached, capture answers 503 with a plain reason; once it is back, the retry
is stored once. The outage is real: the connection is pointed at a server that is not there."""

import socket

import pytest
from django.db import connection

from leads.models import InboundEvent

pytestmark = pytest.mark.django_db(transaction=True)
EVENT = {"channel": "api", "source": "crm", "external_id": "crm-77", "phone": "+15128670777", "message": "Roof"}


def unreachable(settings_dict: dict) -> dict:
    """The same database settings, pointing nowhere: a closed local port, or a file in no directory."""
    if connection.vendor == "sqlite":
        return {"NAME": "/nonexistent-directory/nightshift.sqlite3"}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free, and closed again when this block ends
    return {"HOST": "127.0.0.1", "PORT": str(port)}


def test_capture_answers_503_while_the_database_is_down_and_the_retry_is_stored_once(demo, api, monkeypatch):
    saved = dict(connection.settings_dict)
    connection.close()
    for key, value in unreachable(saved).items():
        monkeypatch.setitem(connection.settings_dict, key, value)
    try:
        down = api.post("/api/v1/events/", EVENT, format="json")
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert down.status_code == 503
    assert down.json() == {"detail": "The database is unavailable for a moment; nothing was stored. Try again shortly."}
    assert down["Retry-After"] == "10"
    assert b"Traceback" not in down.content
    back = api.post("/api/v1/events/", EVENT, format="json")
    assert back.status_code == 202
    assert api.post("/api/v1/events/", EVENT, format="json").json()["duplicate"] is True
    assert InboundEvent.objects.filter(external_id="crm-77").count() == 1
