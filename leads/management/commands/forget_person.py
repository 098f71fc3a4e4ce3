"""manage.py forget_person --phone P | --email E [--yes] [--reason R]: erasure from the command line.

Here, on the leads floor, because it needs only leads.services: the floors above are reached by PERSON_FORGET.
"""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from leads.privacy import person_find
from leads.services import person_forget


class Command(BaseCommand):
    help = (
        "Forget a person: remove their personal data from leads, events (raw payloads included), messages, "
        "actions, webhooks, history rows and the log's texts; keep an anonymised tombstone and, if they opted "
        "out, the one-way digest of their number or address on the suppression list. Logged."
    )

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--phone", help="The person's phone number (normalized as capture does).")
        who.add_argument("--email", help="The person's email address.")
        parser.add_argument("--yes", action="store_true", help="Do not ask; required when not run at a terminal.")
        parser.add_argument("--reason", default="", help="Why (a request's reference); logged, without the person.")

    def handle(self, *args, phone=None, email=None, yes=False, reason="", **options):
        try:
            person, leads = person_find(phone=phone or "", email=email or "")
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{len(leads)} lead(s) carry this person: {', '.join(map(str, person.lead_ids)) or 'none'}.")
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Refusing to forget without --yes: this is not an interactive run.")
            if input("This cannot be undone. Type 'forget' to go on: ").strip().lower() != "forget":
                raise CommandError("Not confirmed; nothing was changed.")
        result = person_forget(phone=phone or "", email=email or "", reason=reason or "forget_person command")
        for what, count in sorted(result.counts.items()):
            if count:
                self.stdout.write(f"  {what.replace('_', ' ')}: {count}")
        if result.suppressed:
            self.stdout.write(f"Still suppressed (by digest) on: {', '.join(result.suppressed)}.")
        self.stdout.write(self.style.SUCCESS(f"Forgotten: {len(result.lead_ids)} lead(s) kept as tombstones."))
