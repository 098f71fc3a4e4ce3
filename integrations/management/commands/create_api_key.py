from django.core.management.base import BaseCommand, CommandError

from integrations.models import ApiKey


class Command(BaseCommand):
    help = "Create a named API key for an integration and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(
                f"An API key named '{name}' already exists; revoke it in the admin or pick another name."
            )
        _, raw = ApiKey.issue(name)
        self.stderr.write(f"Created API key '{name}'. Store it now: it cannot be shown again.")
        self.stdout.write(raw)
