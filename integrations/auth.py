"""Bearer API keys for integrations."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from integrations.models import ApiKey


class ApiKeyPrincipal:
    """``request.user`` for a call made with an API key: authenticated, but not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    is_api_key = True
    pk = None

    def __init__(self, key: ApiKey):
        self.key = key

    def __str__(self):
        return f"API key '{self.key.name}'"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed("No key after 'Bearer'.")
        key = ApiKey.objects.filter(key_hash=ApiKey.hash_key(raw)).first()
        if key is None or not key.active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        now = timezone.now()
        # Touch at most once a minute: a write on every call would double capture's cost.
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes API keys: a bearer token."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An integration's key: manage.py create_api_key"}
