from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.services import decisions_prunable, decisions_prune


class Command(BaseCommand):
    help = (
        "Delete log entries (decisions) older than DECISION_RETENTION_DAYS, keeping model calls and the baseline "
        "period, which reports read. Run it daily (cron or a django-q2 schedule)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Override DECISION_RETENTION_DAYS.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")

    def handle(self, *args, days=None, dry_run=False, **options):
        days = settings.DECISION_RETENTION_DAYS if days is None else days
        if days == 0:
            self.stdout.write("DECISION_RETENTION_DAYS is 0: the log is kept for ever; nothing to do.")
            return
        if days < 1:
            raise CommandError("--days must be at least 1.")
        if dry_run:
            count = decisions_prunable(older_than_days=days).count()
            self.stdout.write(f"{count} log entries are older than {days} days and would be deleted.")
            return
        total = decisions_prune(older_than_days=days, progress=lambda n: self.stdout.write(f"  {n} deleted so far…"))
        self.stdout.write(self.style.SUCCESS(f"Deleted {total} log entries older than {days} days."))
