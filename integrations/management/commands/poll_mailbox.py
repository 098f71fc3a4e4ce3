import imaplib
import time

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from integrations.mail import mailbox_poll


class Command(BaseCommand):
    help = "Store the unseen messages of the IMAP mailbox in IMAP_URL as inbound email (once, or every N seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="imap[s]://user:password@host[:port]/folder (default: IMAP_URL)")
        parser.add_argument("--every", type=int, default=0, help="Keep polling, this many seconds apart.")

    def handle(self, *args, url=None, every=0, **options):
        while True:
            try:
                stored, seen = mailbox_poll(url)
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
            except (OSError, imaplib.IMAP4.error) as exc:  # refusals and network failures: say so, keep looping
                if not every:
                    raise CommandError(f"Mailbox poll failed: {exc}") from exc
                self.stderr.write(f"Mailbox poll failed: {exc}")
            else:
                self.stdout.write(f"{stored} new message(s) stored, {seen} already stored.")
            if not every:
                return
            time.sleep(every)
