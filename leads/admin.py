from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join
from simple_history.admin import SimpleHistoryAdmin

from audit.admin import ReadOnlyAdmin
from leads.models import Appointment, ConsentRecord, InboundEvent, Lead, Message, Suppression, VipAccount, WebForm
from leads.normalize import normalize_email, normalize_phone, phone_regions


class EventInline(admin.TabularInline):
    model = InboundEvent
    extra = 0
    can_delete = False
    fields = ["received_at", "channel", "source", "message"]
    readonly_fields = fields
    show_change_link = True


class ContactProblemFilter(admin.SimpleListFilter):
    title = "contact not understood"
    parameter_name = "contact_problem"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            flagged = queryset.exclude(contact_problems={})
            return flagged if self.value() == "yes" else queryset.filter(contact_problems={})
        return queryset


class LeadAdminForm(forms.ModelForm):
    """Phone and email typed here are read as capture reads them, so they deduplicate the same way.

    No Meta: the admin builds the form for Lead with its own fields (``LeadAdmin.exclude``).
    """

    def clean_email(self):
        return normalize_email(self.cleaned_data.get("email", ""))

    def clean(self):
        cleaned = super().clean()
        # After every field: the number is read in the lead's country, then its email's.
        regions = phone_regions(
            country=cleaned.get("country", ""), email=cleaned.get("email", ""), default=settings.DEFAULT_PHONE_REGION
        )
        try:
            cleaned["phone"] = normalize_phone(cleaned.get("phone", ""), regions=regions)
        except ValidationError as exc:
            self.add_error("phone", exc)
        return cleaned


@admin.register(Lead)
class LeadAdmin(SimpleHistoryAdmin):
    form = LeadAdminForm
    list_display = ["__str__", "phone", "email", "stage", "owner", "score", "contact_flag", "created_at"]
    list_filter = ["stage", "opted_out", ContactProblemFilter, "linked_by", "owner"]
    search_fields = ["name", "email", "phone", "company"]
    list_select_related = ["owner"]
    readonly_fields = [
        "score",
        "qualification",
        "contact_problems_shown",
        "first_response_at",
        "created_at",
        "updated_at",
    ]
    exclude = ["contact_problems"]
    raw_id_fields = ["linked_to", "owner"]
    inlines = [EventInline]

    @admin.display(description="contact not understood")
    def contact_flag(self, lead):
        return ", ".join(f"{name}: {p.get('raw', '')}" for name, p in (lead.contact_problems or {}).items()) or "–"

    @admin.display(description="contact not understood")
    def contact_problems_shown(self, lead):
        problems = lead.contact_problems or {}
        if not problems:
            return "–"
        return format_html_join(
            "",
            "<p><strong>{} not understood: {}</strong> {}</p>",
            ((n, p.get("raw", ""), p.get("reason", "")) for n, p in problems.items()),
        )

    def save_model(self, request, obj, form, change):
        # A corrected phone or email settles its flag, as the lead page's correction does.
        obj.contact_problems = {f: p for f, p in (obj.contact_problems or {}).items() if not getattr(obj, f, "")}
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
