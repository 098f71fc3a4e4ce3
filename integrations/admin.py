from django import forms
from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from integrations.inbound import webhook_retry
from integrations.models import (
    ApiKey,
    CalendarConnection,
    ChatWidget,
    CrmEvent,
    InboundWebhook,
    LeadSource,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from integrations.outbound import webhook_replay


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


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=CrmEvent.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "events", "secret", "active"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(SimpleHistoryAdmin):
    """CRM endpoints and the events each receives. The secret signs every delivery (see the README)."""

    form = SubscriptionForm
    list_display = ["name", "url", "event_list", "active"]

    @admin.display(description="events")
    def event_list(self, obj):
        return ", ".join(obj.events)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ["at", "status_code", "error", "duration_ms"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every outbound POST, each try's answer, and a replay button."""

    list_display = ["created_at", "kind", "event", "url", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "kind", "event", "subscription"]
    search_fields = ["url", "last_error"]
    readonly_fields = [
        "kind", "subscription", "url", "event", "lead", "payload", "status", "attempts", "next_attempt_at",
        "last_status_code", "last_error", "delivered_at", "created_at",
    ]  # fmt: skip
    inlines = [AttemptInline]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Replay selected deliveries (send them again)")
    def replay(self, request, queryset):
        replayed = webhook_replay(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{len(replayed)} deliveries queued again.")


@admin.register(LeadSource)
class LeadSourceAdmin(SimpleHistoryAdmin):
    """Ad platforms and marketplaces that post leads; a generic source's field map is edited here."""

    list_display = ["name", "slug", "kind", "channel", "active", "webhook_url"]
    list_filter = ["kind", "active"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="webhook URL")
    def webhook_url(self, obj):
        from django.conf import settings
        from django.urls import reverse

        return settings.PUBLIC_BASE_URL + reverse("source-webhook", args=[obj.slug])


@admin.register(ChatWidget)
class ChatWidgetAdmin(SimpleHistoryAdmin):
    """Chat boxes for customers' sites; the embed snippet is shown on each."""

    list_display = ["name", "slug", "source", "active", "embed"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["embed"]

    @admin.display(description="embed snippet")
    def embed(self, obj):
        from django.conf import settings

        if not obj.pk:
            return "Save first."
        src = f"{settings.PUBLIC_BASE_URL}/static/js/chat.js"
        return f'<script src="{src}" data-nightshift-chat="{obj.slug}" async></script>'


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(SimpleHistoryAdmin):
    """A rep's external calendar: free/busy read from it, bookings written to it (CalDAV). The secret stays outside."""

    list_display = ["user", "kind", "active", "last_ok_at", "last_error"]
    list_filter = ["kind", "active"]
    readonly_fields = ["last_ok_at", "last_error", "last_error_at"]
    fields = ["user", "kind", "url", "username", "credential_ref", "calendar_id", "active", *readonly_fields]
