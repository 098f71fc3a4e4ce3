from django.db import migrations

SCHEDULE_NAME = "routing.requeue_lost"


def schedule_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "routing.tasks.requeue_lost", "schedule_type": "I", "minutes": 5, "repeats": -1},
    )


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0010_report_indexes"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
