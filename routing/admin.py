from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from audit.admin import ReadOnlyAdmin
from leads.choices import OPEN_STAGES
from leads.conditions import describe
from leads.forms import ConditionsModelForm
from routing.models import (
    Absence,
    Assignment,
    BookingType,
    Cadence,
    CadenceStep,
    Enrollment,
    Holiday,
    IntentExample,
    LabelDefinition,
    QualificationCriteria,
    QuietHours,
    QuietHoursRule,
    Rep,
    RoutingRule,
    Team,
    Territory,
    WorkingHours,
)
from routing.models.cadences import WAITING
from routing.models.people import login_possible
from routing.whatif import MAX_REPLAY, rules_replay

# Django 6 reads a URL typed without a scheme as https; say so now (and silence the 5.2 warning).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}
TARGET_FIELDS = [
    "team",
    "rep",
    "strategy",
    "by_account_owner",
    "by_territory",
    "by_skills",
    "out_of_hours",
    "fallback_team",
]


class RoutingRuleForm(ConditionsModelForm):
    class Meta:
        model = RoutingRule
        fields = ["name", "priority", "active", *TARGET_FIELDS]


class TerritoryInline(admin.TabularInline):
    model = Territory
    extra = 0


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class AbsenceInline(admin.TabularInline):
    model = Absence
    extra = 0


class RepInline(admin.TabularInline):
    model = Rep
    extra = 0
    fields = ["user", "active", "weight", "capacity", "timezone"]
    show_change_link = True


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["name", "is_fallback", "sla_minutes", "sla_action", "last_assigned_rep"]
    fieldsets = [
        (None, {"fields": ["name", "is_fallback"]}),
        ("First-touch SLA", {"fields": ["sla_minutes", "sla_action", "sla_max_hops"]}),
        ("Alerts", {"fields": ["slack_webhook_url"]}),
    ]
    inlines = [RepInline, TerritoryInline]


@admin.register(Rep)
class RepAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "team", "active", "can_log_in", "open_leads", "weight", "capacity", "timezone"]
    list_filter = ["team", "active"]
    list_editable = ["active"]
    list_select_related = ["user", "team"]
    fieldsets = [
        (None, {"fields": ["user", "team", "active"]}),
        ("Share of leads", {"fields": ["weight", "capacity"]}),
        ("Skills", {"fields": ["languages", "product_lines", "lead_types"]}),
        ("Availability", {"fields": ["timezone"], "description": "Working hours and absences are below."}),
    ]
    inlines = [WorkingHoursInline, AbsenceInline, TerritoryInline]

    def get_queryset(self, request):
        # The handover of a deactivated rep's leads shows here as their open leads going down to zero.
        owned = Count("user__owned_leads", filter=Q(user__owned_leads__stage__in=OPEN_STAGES), distinct=True)
        return super().get_queryset(request).annotate(open_lead_count=owned)

    @admin.display(boolean=True, description="can log in")
    def can_log_in(self, rep: Rep) -> bool:
        return login_possible(rep.user)

    @admin.display(description="open leads", ordering="open_lead_count")
    def open_leads(self, rep: Rep) -> int:
        return rep.open_lead_count


@admin.register(QualificationCriteria)
class QualificationCriteriaAdmin(SimpleHistoryAdmin):
    list_display = ["name", "active", "qualify_threshold", "clarify_threshold", "spam_threshold", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "active"]}),
        ("What the business does", {"fields": ["services", "service_area", "disqualifiers", "voice"]}),
        ("What counts", {"fields": ["intent_phrases", "budget_bands", "required_facts", "max_questions"]}),
        (
            "Score",
            {
                "fields": [
                    "base_score",
                    ("weight_intent", "weight_service", "weight_budget"),
                    ("weight_timeline", "weight_urgency", "weight_area"),
                    ("qualify_threshold", "clarify_threshold", "spam_threshold"),
                ]
            },
        ),
    ]


@admin.register(IntentExample)
class IntentExampleAdmin(admin.ModelAdmin):
    list_display = ["text", "intent", "source", "created_by", "created_at"]
    list_filter = ["intent", "source"]
    search_fields = ["text"]
    readonly_fields = ["lead", "created_by"]

    def save_model(self, request, obj, form, change):
        if "text" in form.changed_data:
            obj.vector = None  # recomputed from the new text on next use
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(LabelDefinition)
class LabelDefinitionAdmin(SimpleHistoryAdmin):
    list_display = ["intent", "definition", "updated_at"]
    search_fields = ["definition"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(SimpleHistoryAdmin):
    form = RoutingRuleForm
    change_form_template = "admin/routing/routingrule/change_form.html"
    list_display = ["priority", "name", "summary", "team", "rep", "strategy", "active", "updated_at"]
    list_display_links = ["name"]
    list_filter = ["active", "team", "strategy"]
    list_select_related = ["team", "rep__user"]
    fieldsets = [
        (None, {"fields": ["name", "priority", "active"]}),
        ("Which leads", {"fields": ["match", "conditions_text"]}),
        ("Who gets them", {"fields": TARGET_FIELDS}),
    ]

    @admin.display(description="conditions")
    def summary(self, rule: RoutingRule) -> str:
        return describe(rule.conditions or {})

    def get_urls(self):
        replay = self.admin_site.admin_view(require_POST(self.replay_view))
        return [path("replay/", replay, name="routing_routingrule_replay"), *super().get_urls()]

    def replay_view(self, request):
        """Replay the last N leads against the rule as edited in the form (unsaved); an HTMX fragment."""
        rule = RoutingRule.objects.filter(pk=request.POST.get("replay_rule") or None).first()
        allowed = self.has_change_permission(request, rule) if rule else self.has_add_permission(request)
        if not allowed:
            raise PermissionDenied
        form = self.get_form(request, rule)(request.POST, instance=rule)
        try:
            count = int(request.POST.get("replay_count") or 200)
        except ValueError:
            count = 200
        context = {"form": form, "count": max(1, min(count, MAX_REPLAY))}
        if form.is_valid():
            context["result"] = rules_replay(edited=form.save(commit=False), count=context["count"])
        return render(request, "admin/routing/routingrule/replay.html", context)


@admin.register(Assignment)
class AssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["created_at", "lead", "rep", "kind", "rule", "sla_due_at", "breached_at", "reason"]
    list_filter = ["kind"]
    list_select_related = ["lead", "rep__user", "rule"]
    readonly_fields = ["lead", "rep", "rule", "kind", "hop", "reason", "sla_due_at", "breached_at", "created_at"]

    def has_add_permission(self, request):
        return False


class CadenceStepFormSet(BaseInlineFormSet):
    """A cadence needs at least one step; the steps' texts are checked against what the cadence can fill."""

    def clean(self):
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise ValidationError("Add at least one step: a cadence with no steps would do nothing.")


class CadenceStepInline(admin.TabularInline):
    model = CadenceStep
    formset = CadenceStepFormSet
    extra = 0
    min_num = 1
    fields = ["position", "delay", "delay_unit", "channel", "template", "note", "only_if_no_reply", "only_if_stage"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}


@admin.register(Cadence)
class CadenceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "active", "trigger", "trigger_stage", "workflow", "step_count", "running"]
    list_filter = ["active", "trigger", "workflow"]
    search_fields = ["name"]
    inlines = [CadenceStepInline]
    formfield_overrides = HTTPS_URLS
    fieldsets = [
        (None, {"fields": ["name", "active", "workflow", "link"]}),
        ("Starts when", {"fields": ["trigger", "trigger_stage", "trigger_hours"]}),
        ("Stops when", {"fields": ["stop_on_reply", "stop_on_booking", "stop_on_reassign", "stop_stages"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                step_total=models.Count("steps", distinct=True),
                running_total=models.Count(
                    "enrollments", filter=models.Q(enrollments__status__in=WAITING), distinct=True
                ),
            )
        )

    @admin.display(description="steps", ordering="step_total")
    def step_count(self, obj):
        return obj.step_total

    @admin.display(description="running", ordering="running_total")
    def running(self, obj):
        return obj.running_total


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    """Written by the cadence services; people pause, skip and stop from the lead's page."""

    list_display = ["lead", "cadence", "status", "position", "next_run_at", "stop_kind", "started_at"]
    list_filter = ["status", "stop_kind", "cadence"]
    list_select_related = ["lead", "cadence"]
    search_fields = ["lead__name", "lead__email", "lead__phone"]
    date_hierarchy = "started_at"


@admin.register(QuietHours)
class QuietHoursAdmin(SimpleHistoryAdmin):
    list_display = ["channel", "allowed_from", "allowed_until"]


@admin.register(QuietHoursRule)
class QuietHoursRuleAdmin(SimpleHistoryAdmin):
    """The law's quiet hours per region (docs/quiet-hours.md): edited here, with history, when a law changes."""

    formfield_overrides = HTTPS_URLS
    list_display = ["region", "name", "weekdays", "saturday", "sunday", "holidays_closed", "law", "checked_on"]
    list_filter = ["holidays_closed"]
    search_fields = ["region", "name", "law"]
    fieldsets = [
        (None, {"fields": ["region", "name"]}),
        (
            "Hours on the lead's clock (blank both times: nothing goes that day)",
            {
                "fields": [
                    ("weekdays_from", "weekdays_until"),
                    ("saturday_from", "saturday_until"),
                    ("sunday_from", "sunday_until"),
                    "holidays_closed",
                ]
            },
        ),
        ("Source", {"fields": ["law", "source_url", "checked_on", "note"]}),
    ]

    @admin.display(description="Mon-Fri")
    def weekdays(self, rule):
        return _window_text(rule.day_window("weekdays"))

    @admin.display(description="Sat")
    def saturday(self, rule):
        return _window_text(rule.day_window("saturday"))

    @admin.display(description="Sun")
    def sunday(self, rule):
        return _window_text(rule.day_window("sunday"))


def _window_text(window) -> str:
    return f"{window.allowed_from:%H:%M}–{window.allowed_until:%H:%M}" if window else "closed"


@admin.register(Holiday)
class HolidayAdmin(SimpleHistoryAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"


class BookingTypeForm(ConditionsModelForm):
    class Meta:
        model = BookingType
        exclude = ["conditions"]


@admin.register(BookingType)
class BookingTypeAdmin(SimpleHistoryAdmin):
    """Kinds of meeting leads book in the conversation: length, buffers, notice, horizon, hosts, where, when offered."""

    form = BookingTypeForm
    list_display = ["name", "slug", "duration_minutes", "team_mode", "location_kind", "offer_in", "active", "priority"]
    list_filter = ["active", "team_mode", "location_kind", "offer_in"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["reps", "teams"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "active", "priority", "match", "conditions_text"]}),
        (
            "The meeting",
            {
                "fields": [
                    "duration_minutes",
                    "buffer_before_minutes",
                    "buffer_after_minutes",
                    "location_kind",
                    "location_detail",
                ]
            },
        ),
        ("When", {"fields": ["min_notice_minutes", "horizon_days", "step_minutes"]}),
        ("Who hosts it", {"fields": ["team_mode", "reps", "teams"]}),
        ("In the conversation", {"fields": ["offer_in", "min_score", "offer_count", "link_days"]}),
    ]
