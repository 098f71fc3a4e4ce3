"""A starter set of labeled messages per intent, so the embedding provider works on a fresh install.

Managers add their own in the admin and reps' corrections add more; this set stays editable.
"""

import json
from pathlib import Path

from django.db import migrations

SEED = Path(__file__).resolve().parent.parent / "data" / "intent_examples.jsonl"


def seed(apps, schema_editor):
    IntentExample = apps.get_model("routing", "IntentExample")
    rows = [json.loads(line) for line in SEED.read_text().splitlines() if line.strip()]
    IntentExample.objects.bulk_create(
        [IntentExample(intent=row["intent"], text=row["text"], source="seed") for row in rows],
        ignore_conflicts=True,
    )


def unseed(apps, schema_editor):
    apps.get_model("routing", "IntentExample").objects.filter(source="seed").delete()


class Migration(migrations.Migration):
    dependencies = [("routing", "0004_reasoning")]

    operations = [migrations.RunPython(seed, unseed)]
