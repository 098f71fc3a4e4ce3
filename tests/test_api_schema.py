"""schemathesis over the OpenAPI schema: every operation, anonymous and with an API key, gets generated
input (valid and not); no answer may be a 5xx, and every answer must match the schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from integrations.models import ApiKey

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """The app is called as a WSGI server would; keep the test's connection open across requests, as Django's
    own test client does (Django closes connections at the end of every request)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(db, demo):
    return ApiKey.issue("schemathesis")[1]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_every_operation_answers_without_5xx_and_as_documented(case, api_key):
    for headers in ({}, {"Authorization": f"Bearer {api_key}"}):
        # Whether the server accepts valid-looking input (a phone number that is not one) or refuses what the schema
        # would not allow is business validation; these are the properties the schema promises.
        case.call_and_validate(headers=headers, checks=CHECKS)
