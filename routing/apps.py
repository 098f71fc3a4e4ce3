from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        # Connects the signals that invalidate the cached routing configuration.
        from routing import directory, reasoning  # noqa: F401
