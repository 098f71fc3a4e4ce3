from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from audit.admin import ReadOnlyAdmin
from leads.models import Appointment, ConsentRecord, InboundEvent, Lead, Message, Suppression, VipAccount, WebForm


class EventInline(admin.TabularInline):
    model = InboundEvent
    extra = 0
    can_delete = False
    fields = ["received_at", "channel", "source", "message"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Lead)
class LeadAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "phone", "email", "stage", "owner", "score", "first_response_at", "created_at"]
    list_filter = ["stage", "opted_out", "owner"]
    search_fields = ["name", "email", "phone", "company"]
    list_select_related = ["owner"]
    readonly_fields = ["score", "qualification", "first_response_at", "created_at", "updated_at"]
    inlines = [EventInline]

    def save_model(self, request, obj, form, change):
        # A corrected address is a new mailbox: the old one's bounce says nothing about it.
        if change and "email" in form.changed_data and "email_undeliverable" not in form.changed_data:
            obj.email_undeliverable = ""
        super().save_model(request, obj, form, change)


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    """Events are stored as received; the admin shows them but never changes them."""

    list_display = ["received_at", "channel", "source", "lead", "external_id", "processed_at"]
    list_filter = ["channel", "source"]
    search_fields = ["external_id", "message", "email", "phone"]
    list_select_related = ["lead"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "direction", "channel", "to", "status", "provider_id", "lead"]
    list_filter = ["direction", "channel", "status"]
    search_fields = ["provider_id", "to", "body"]
    list_select_related = ["lead"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(WebForm)
class WebFormAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "source", "active", "thank_you_url"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(VipAccount)
class VipAccountAdmin(SimpleHistoryAdmin):
    list_display = ["name", "company", "email_domain"]
    search_fields = ["name", "company", "email_domain"]


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
    list_display = ["lead", "starts_at", "duration_minutes", "location", "status", "booked_by"]
    list_filter = ["status"]
    list_select_related = ["lead", "booked_by"]
    raw_id_fields = ["lead"]


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    """Addresses no message may reach on a channel. Only the person can opt back in (START, a form's consent)."""

    list_display = ["channel", "address", "reason", "created_at"]
    list_filter = ["channel"]
    search_fields = ["address"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    """The consent ledger: append-only evidence of every opt-in and opt-out, with its words and source."""

    list_display = ["created_at", "lead", "channel", "kind", "how", "words", "actor", "actor_label"]
    list_filter = ["channel", "kind", "how"]
    search_fields = ["phone", "email", "words"]
    list_select_related = ["lead", "actor"]
    raw_id_fields = ["lead", "evidence_event", "evidence_message", "actor"]
