from django.db import migrations

SCHEDULE_NAME = "approvals.actions_held_release"


def schedule_create(apps, schema_editor):
    # Every minute: a text held for quiet hours goes within a minute of the moment the law allows it.
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "approvals.tasks.actions_held_release", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0011_action_not_before"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
