from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from simple_history.admin import SimpleHistoryAdmin

from approvals.gates import GATE_FIELDS
from approvals.models import Action, BusinessHours, MessageTemplate, Policy, PolicyGate, SmsSettings
from approvals.services import action_approve_many
from approvals.templating import TEMPLATE_HELP
from leads.forms import ConditionsModelForm


class PolicyGateForm(ConditionsModelForm):
    condition_fields = GATE_FIELDS
    condition_examples = ("amount > 5000", "vip is yes", "first_message is yes", "outside_business_hours is yes")

    class Meta:
        model = PolicyGate
        fields = ["name", "reviewer", "active"]


class PolicyGateInline(admin.StackedInline):
    model = PolicyGate
    form = PolicyGateForm
    extra = 0
    fields = ["name", "match", "conditions_text", "reviewer", "active"]


@admin.register(Policy)
class PolicyAdmin(SimpleHistoryAdmin):
    list_display = ["workflow", "mode", "min_confidence", "graduation_bar", "graduation_window", "updated_at"]
    inlines = [PolicyGateInline]


@admin.register(BusinessHours)
class BusinessHoursAdmin(SimpleHistoryAdmin):
    list_display = ["weekday", "opens", "closes"]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(SimpleHistoryAdmin):
    list_display = ["name", "workflow", "channel", "language", "asks_for", "active", "updated_at"]
    list_filter = ["workflow", "channel", "language", "active"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["help_texts"] = {"body": TEMPLATE_HELP}
        return super().get_form(request, obj, change, **kwargs)


@admin.register(SmsSettings)
class SmsSettingsAdmin(SimpleHistoryAdmin):
    """One row: the list opens it (saved with the defaults on the first visit); never added or deleted."""

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return redirect("admin:approvals_smssettings_change", SmsSettings.load().pk)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Action)
class ActionAdmin(SimpleHistoryAdmin):
    """Read-only rows; decisions go through the same services as the portal and the API."""

    list_display = ["created_at", "lead", "workflow", "kind", "status", "escalated", "review_by", "decided_by"]
    list_filter = ["status", "workflow", "kind", "escalated", "review_by"]
    list_select_related = ["lead", "decided_by"]
    actions = ["approve_selected"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    @admin.action(description="Approve selected pending actions")
    def approve_selected(self, request, queryset):
        try:
            results = action_approve_many(action_ids=queryset.values_list("pk", flat=True), user=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        for result in results:
            if result.error:
                self.message_user(request, f"Action {result.action_id}: {result.error}", messages.WARNING)
        self.message_user(request, f"Approved {sum(1 for r in results if r.action)} action(s).")
