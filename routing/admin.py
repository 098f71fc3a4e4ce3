from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from routing.models import Assignment, QualificationCriteria, Rep, RoutingRule, Team


class RepInline(admin.TabularInline):
    model = Rep
    extra = 0


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name", "last_assigned_rep"]
    inlines = [RepInline]


@admin.register(Rep)
class RepAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "team", "active"]
    list_filter = ["team", "active"]
    list_select_related = ["user", "team"]


@admin.register(QualificationCriteria)
class QualificationCriteriaAdmin(SimpleHistoryAdmin):
    list_display = ["name", "active", "qualify_threshold", "updated_at"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(SimpleHistoryAdmin):
    list_display = ["priority", "name", "team", "strategy", "active", "updated_at"]
    list_display_links = ["name"]
    list_filter = ["active", "team"]
    list_select_related = ["team"]


@admin.register(Assignment)
class AssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["created_at", "lead", "rep", "rule", "reason"]
    list_select_related = ["lead", "rep__user", "rule"]
    readonly_fields = ["lead", "rep", "rule", "reason", "created_at"]

    def has_add_permission(self, request):
        return False
