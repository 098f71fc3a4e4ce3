"""Scheduled tasks follow the services they call (``noun_verb``); the executor's sweep moved to approvals."""

from django.db import migrations

RENAMED = {
    "audit.tasks.prune_log": "audit.tasks.decisions_prune",
    "integrations.tasks.webhook_deliveries_due": "integrations.tasks.deliveries_due",
    "integrations.tasks.stalled_sends": "approvals.tasks.executions_stalled",
    "routing.tasks.requeue_lost": "routing.tasks.lost_work_requeue",
}


def _label(func: str) -> str:
    # Schedules are named after their task, less ".tasks": "routing.tasks.sla_sweep" is "routing.sla_sweep".
    return func.replace(".tasks.", ".")


def _rename(apps, mapping: dict) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    for old, new in mapping.items():
        Schedule.objects.filter(func=old).update(func=new, name=_label(new))


def forwards(apps, schema_editor):
    _rename(apps, RENAMED)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0011_requeue_schedule"),
        ("audit", "0009_decision_created_at_default"),
        ("integrations", "0007_stalled_sends_schedule"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
