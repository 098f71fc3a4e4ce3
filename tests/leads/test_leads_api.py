import pytest

from tests.conftest import user_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_leads(demo, capture):
    ids = []
    for n, channel in enumerate(["form", "sms", "email"]):
        ids.append(
            capture(
                channel=channel,
                phone=f"+1512867{n:04d}",
                name=f"Lead {n}",
                message="Need a roof quote",
                postal_code="30301",
            ).json()["lead"]
        )
    return ids  # owners: rep1, rep2, rep3


def test_list_filter_and_paginate(api, three_leads):
    body = api.get("/api/v1/leads/").json()
    assert body["count"] == 3
    assert {"owner", "stage", "score", "qualification"} <= set(body["results"][0])
    assert api.get("/api/v1/leads/?channel=sms").json()["count"] == 1
    assert api.get("/api/v1/leads/?stage=qualified").json()["count"] == 3
    assert api.get("/api/v1/leads/?stage=won").json()["count"] == 0
    assert api.get("/api/v1/leads/?page=2").status_code == 404  # 50 a page: there is no second


def test_bad_filter_value_is_400_naming_it(api, three_leads):
    response = api.get("/api/v1/leads/?stage=bogus")
    assert response.status_code == 400
    assert "stage" in response.json()


def test_detail_and_timeline(api, three_leads):
    lead_id = three_leads[0]
    detail = api.get(f"/api/v1/leads/{lead_id}/").json()
    assert detail["owner"]["username"] == "rep1"
    timeline = api.get(f"/api/v1/leads/{lead_id}/timeline/").json()
    kinds = [(e["kind"], e["title"].split(" ")[0]) for e in timeline]
    assert kinds[0] == ("event", "Web")
    assert [e["title"] for e in timeline if e["kind"] == "decision"][:4] == [
        "Enriched",
        "Qualified",
        "Routed",
        "Proposed action · first response",
    ]


def test_rep_sees_only_own_leads(three_leads):
    rep1 = user_client("rep1")
    assert rep1.get("/api/v1/leads/").json()["count"] == 1
    assert rep1.get(f"/api/v1/leads/{three_leads[0]}/").status_code == 200
    assert rep1.get(f"/api/v1/leads/{three_leads[1]}/").status_code == 404
    assert rep1.get(f"/api/v1/leads/{three_leads[1]}/timeline/").status_code == 404
    assert user_client("manager").get("/api/v1/leads/").json()["count"] == 3


def test_list_query_count_does_not_grow_with_rows(api, three_leads, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        api.get("/api/v1/leads/")
