from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        # Each channel module registers its webhook parser on import.
        from integrations import adsources, mail  # noqa: F401
