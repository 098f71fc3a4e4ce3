import pytest
import yaml
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_database_and_queue_depth():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "queue_depth": 0}


@pytest.mark.django_db
def test_openapi_schema_lists_the_contract(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    for path in [
        "/api/v1/events/",
        "/api/v1/leads/",
        "/api/v1/leads/{id}/",
        "/api/v1/leads/{id}/timeline/",
        "/api/v1/actions/",
        "/api/v1/actions/{id}/approve/",
        "/api/v1/actions/{id}/reject/",
    ]:
        assert path in paths, path
    assert "202" in paths["/api/v1/events/"]["post"]["responses"]


@pytest.mark.django_db
def test_api_docs_page_is_served_offline(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    assert b"/static/drf_spectacular_sidecar/" in response.content
