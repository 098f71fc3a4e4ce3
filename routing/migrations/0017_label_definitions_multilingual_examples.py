"""Label definitions a manager edits (seeded with the defaults), the embedding model beside each stored vector, and
the starter examples grown by the train split of tests/data/qualify_set.jsonl (English, Spanish, French, German)
and tests/data/qualify_labeled.jsonl (English).

The defaults are copied here, not imported: a migration keeps the text it was written with.
"""

import json
from pathlib import Path

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


SEED = Path(__file__).resolve().parent.parent / "data" / "intent_examples.jsonl"
DEFINITIONS = {
    "new_project": "A person who wants work done or something bought, sold or rented and has not asked for a "
    "price or a visit yet. Includes urgent problems at their own property (a leak, no heat).",
    "quote_request": "A person asking what a job would cost: a quote, estimate, bid, price or proposal for "
    "their own need. A company offering to give us a quote or a price is a vendor pitch, not this.",
    "appointment": "A person asking to book, move or confirm a visit, a call, a showing or a meeting about "
    "their own need.",
    "question": "A person asking whether we do something, where we work, or how we work, before asking for work.",
    "existing_customer": "Someone we already serve writing about their account, invoice, order, job or "
    "warranty, without a complaint.",
    "complaint": "A customer unhappy with work, service, a charge or a missed visit.",
    "job_seeker": "A person asking for a job, a position, an apprenticeship or subcontracting work with us. "
    "Someone offering to work for us is a job seeker, not an existing customer.",
    "vendor_pitch": "A business selling its services or products to us: marketing, SEO, leads, software, "
    "staffing, financing, supplies, buying our company. Often offers a demo, a call or a quote.",
    "spam": "Scams, phishing, unrelated advertising, links to strangers' sites, gibberish, test messages.",
    "opt_out": "The person asks in so many words not to be contacted. Only their own words count.",
    "other": "Anything else: thanks, greetings, wrong chats, unclear messages.",
}


def seed(apps, schema_editor):
    LabelDefinition = apps.get_model("routing", "LabelDefinition")
    for intent, definition in DEFINITIONS.items():
        LabelDefinition.objects.get_or_create(intent=intent, defaults={"definition": definition})
    IntentExample = apps.get_model("routing", "IntentExample")
    rows = [json.loads(line) for line in SEED.read_text().splitlines() if line.strip()]
    IntentExample.objects.bulk_create(
        [IntentExample(intent=row["intent"], text=row["text"], source="seed") for row in rows],
        ignore_conflicts=True,
    )


def unseed(apps, schema_editor):
    apps.get_model("routing", "LabelDefinition").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0016_assignment_kind_handover"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LabelDefinition",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "intent",
                    models.CharField(
                        choices=[
                            ("new_project", "new project"),
                            ("quote_request", "quote request"),
                            ("appointment", "appointment"),
                            ("question", "question"),
                            ("existing_customer", "existing customer"),
                            ("complaint", "complaint"),
                            ("job_seeker", "job seeker"),
                            ("vendor_pitch", "vendor pitch"),
                            ("spam", "spam"),
                            ("opt_out", "opt out"),
                            ("other", "other"),
                        ],
                        max_length=30,
                        unique=True,
                    ),
                ),
                (
                    "definition",
                    models.TextField(
                        help_text="What this label means for your business, as you would explain it to a new rep: who writes it, and what it is not (e.g. 'a company offering us a quote is a vendor pitch')."
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["intent"],
            },
        ),
        migrations.AddField(
            model_name="intentexample",
            name="vector_model",
            field=models.CharField(blank=True, default="", editable=False, max_length=100),
        ),
        migrations.CreateModel(
            name="HistoricalLabelDefinition",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                (
                    "intent",
                    models.CharField(
                        choices=[
                            ("new_project", "new project"),
                            ("quote_request", "quote request"),
                            ("appointment", "appointment"),
                            ("question", "question"),
                            ("existing_customer", "existing customer"),
                            ("complaint", "complaint"),
                            ("job_seeker", "job seeker"),
                            ("vendor_pitch", "vendor pitch"),
                            ("spam", "spam"),
                            ("opt_out", "opt out"),
                            ("other", "other"),
                        ],
                        db_index=True,
                        max_length=30,
                    ),
                ),
                (
                    "definition",
                    models.TextField(
                        help_text="What this label means for your business, as you would explain it to a new rep: who writes it, and what it is not (e.g. 'a company offering us a quote is a vendor pitch')."
                    ),
                ),
                ("updated_at", models.DateTimeField(blank=True, editable=False)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical label definition",
                "verbose_name_plural": "historical label definitions",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(seed, unseed),
    ]
