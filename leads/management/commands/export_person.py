"""manage.py export_person --phone P | --email E [--out FILE]: everything held about a person, as JSON.

Here, on the leads floor, because it needs only leads.services: the floors above are reached by PERSON_EXPORT.
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from leads.services import person_export


class Command(BaseCommand):
    help = (
        "Write everything held about a person (every lead with that phone or email, and all that hangs off it) "
        "as JSON. Logged."
    )

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--phone", help="The person's phone number (normalized as capture does).")
        who.add_argument("--email", help="The person's email address.")
        parser.add_argument("--out", help="Write to this file (default: standard output).")
        parser.add_argument("--reason", default="", help="Why (a request's reference); logged, without the person.")

    def handle(self, *args, phone=None, email=None, out=None, reason="", **options):
        try:
            export = person_export(phone=phone or "", email=email or "", reason=reason or "export_person command")
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        text = json.dumps(export, indent=2, ensure_ascii=False)
        if out:
            Path(out).write_text(text + "\n", encoding="utf-8")
            total = sum(export["counts"].values())
            self.stderr.write(f"Wrote {total} rows about {len(export['person']['lead_ids'])} lead(s) to {out}.")
        else:
            self.stdout.write(text)
