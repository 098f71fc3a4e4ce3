"""A fresh django-q2 worker loads the models before its first task, through django-q2's own post_spawn signal."""

import logging

import pytest
from django_q.signals import post_spawn

from integrations.llm import language
from leads import geo


@pytest.mark.django_db
def test_a_spawned_worker_loads_the_language_model_and_the_zip_table_before_its_first_lead(caplog):
    language._identifier.cache_clear()
    geo.location_for.cache_clear()

    with caplog.at_level(logging.INFO, logger="routing.tasks"):
        post_spawn.send(sender="django_q", proc_name="Worker-1")

    assert language._identifier.cache_info().currsize == 1
    assert geo.location_for.cache_info().currsize == 1
    assert [r.msg for r in caplog.records] == ["worker.warm"]


def test_a_worker_whose_database_is_down_at_spawn_still_starts_and_says_why(settings, caplog):
    # No database here (no django_db mark): the embedding judge's examples cannot be read, as when the
    # database is down while the worker spawns.
    settings.LLM_PROVIDER = "embedding"

    post_spawn.send(sender="django_q", proc_name="Worker-1")  # raises nothing

    assert [r.msg for r in caplog.records if r.name == "routing.tasks"] == ["worker.warm_failed"]
