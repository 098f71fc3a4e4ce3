from django.contrib import admin, messages

from integrations.inbound import webhook_retry
from integrations.models import ApiKey, InboundWebhook


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key, raw = ApiKey.issue(obj.name)
        obj.pk, obj.prefix, obj.key_hash = key.pk, key.prefix, key.key_hash
        self.message_user(
            request, f"Key for '{obj.name}': {raw} — copy it now, it is not shown again.", messages.WARNING
        )

    @admin.action(description="Revoke selected keys")
    def revoke_selected(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoke()
        self.message_user(request, "Revoked.")


@admin.register(InboundWebhook)
class InboundWebhookAdmin(admin.ModelAdmin):
    """Provider deliveries as received: what failed to capture, and why, with a button to process it again."""

    list_display = ["received_at", "kind", "source", "external_id", "status", "error", "event"]
    list_filter = ["status", "kind", "source"]
    search_fields = ["external_id", "error"]
    readonly_fields = [
        "kind",
        "source",
        "external_id",
        "payload",
        "status",
        "error",
        "event",
        "received_at",
        "processed_at",
    ]
    actions = ["process_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Process selected failed deliveries again")
    def process_again(self, request, queryset):
        count = webhook_retry(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} deliveries queued again (only failed ones are retried).")
