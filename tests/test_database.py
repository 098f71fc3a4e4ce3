"""How the app talks to its database: prepared statements on PostgreSQL, history rows without rebuilt managers."""

import pytest
from django.db import connection, connections

from leads.models import Lead
from leads.selectors import lead_list_by_contact

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")


def prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_statement_run_often_is_prepared_and_survives_a_migration_adding_a_column(demo):
    lead = Lead.objects.create(phone="+15128670901", name="Prepared")
    assert not any("LIMIT 2" in sql and "leads_lead" in sql for sql in prepared())
    for _ in range(6):  # psycopg prepares after five runs on one connection
        assert lead_list_by_contact(phone=lead.phone, email="") == [lead]
    assert any("LIMIT 2" in sql and "leads_lead" in sql for sql in prepared())
    migration = connections.create_connection("default")  # another process runs a migration meanwhile
    try:
        with migration.cursor() as cursor:
            cursor.execute("ALTER TABLE leads_lead ADD COLUMN added_by_a_migration integer")
        assert lead_list_by_contact(phone=lead.phone, email="") == [lead]
    finally:
        with migration.cursor() as cursor:
            cursor.execute("ALTER TABLE leads_lead DROP COLUMN added_by_a_migration")
        migration.close()


def test_history_rows_share_one_manager_class_per_model(demo):
    lead = Lead.objects.create(phone="+15128670902", name="Once")
    lead.stage = "contacted"
    lead.save()
    assert type(Lead.history) is type(Lead.history) is type(lead.history)
    assert [row.stage for row in lead.history.order_by("history_id")] == ["new", "contacted"]


def failing_task(lead_id: int) -> None:
    raise RuntimeError(f"the send for lead {lead_id} failed")


@pytest.mark.django_db(transaction=True)
def test_work_run_after_commit_that_fails_is_logged_and_the_committed_task_stands(demo, caplog):
    from django.db import transaction

    from config.queue import run_after_commit

    with transaction.atomic():
        lead = Lead.objects.create(phone="+15128670903", name="Committed")
        run_after_commit(failing_task, lead.pk)
    assert Lead.objects.filter(pk=lead.pk).exists()
    assert "Error calling tests.test_database.failing_task in on_commit()" in caplog.text
    assert f"the send for lead {lead.pk} failed" in caplog.text
