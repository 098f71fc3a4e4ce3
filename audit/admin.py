from django.contrib import admin

from audit.models import Decision


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that services write and people only read (the audit trail, opt-outs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is written by services, never edited."""

    list_display = ["created_at", "step", "workflow", "lead", "actor_type", "actor", "outcome", "confidence"]
    list_filter = ["step", "outcome", "actor_type", "workflow"]
    search_fields = ["reasoning", "input_summary"]
    list_select_related = ["lead", "actor"]
    date_hierarchy = "created_at"
