"""Who gets a lead: routing rules in priority order, and the assignments they made."""

import dataclasses

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from audit.history import History
from leads.conditions import empty_conditions, validate_conditions
from routing import assign
from routing.models.people import Rep, Team, Territory


class RoutingRule(models.Model):
    """Sends leads matching its conditions to a team or a rep; rules are tried in priority order (lowest first)."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = assign.ROUND_ROBIN, "Round-robin"
        WEIGHTED = assign.WEIGHTED, "Weighted round-robin (rep weights)"
        LEAST_LOADED = assign.LEAST_LOADED, "Least-loaded (fewest open leads)"

    class OutOfHours(models.TextChoices):
        ON_SHIFT = assign.ON_SHIFT, "Whoever in the team is on shift"
        FALLBACK = assign.FALLBACK, "The fallback team"

    name = models.CharField(max_length=100)
    priority = models.PositiveIntegerField(default=100, help_text="Lower numbers are tried first.")
    active = models.BooleanField(default=True)
    conditions = models.JSONField(default=empty_conditions, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="rules")
    rep = models.ForeignKey(
        Rep, null=True, blank=True, on_delete=models.PROTECT, related_name="rules", help_text="Instead of a team."
    )
    strategy = models.CharField(max_length=24, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    by_account_owner = models.BooleanField(
        default=False, help_text="A lead from a company or email domain that already has an owner goes to that owner."
    )
    by_territory = models.BooleanField(
        default=False,
        help_text="Only reps owning the lead's postal code, region or country (the most specific wins). "
        "With no team or rep set, territories of every team count.",
    )
    by_skills = models.BooleanField(
        default=False, help_text="Only reps with the lead's language, product line and lead type."
    )
    out_of_hours = models.CharField(max_length=10, choices=OutOfHours.choices, default=OutOfHours.ON_SHIFT)
    fallback_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fallback_for",
        help_text="When nobody in this rule can take the lead. Blank: the fallback team.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self):
        return self.name

    def target(self) -> assign.RuleTarget:
        """What the pure engine needs to know about who gets this rule's leads (same names as the fields)."""
        return assign.RuleTarget(**{f.name: getattr(self, f.name) for f in dataclasses.fields(assign.RuleTarget)})

    def problems(self) -> dict[str, str]:
        """What would make this rule unusable, by field; empty when it can route."""
        errors = {}
        try:
            validate_conditions(self.conditions)
        except ValueError as exc:
            errors["conditions"] = str(exc)
        if self.team_id and self.rep_id:
            errors["rep"] = "Send to a team or to a rep, not both."
        elif not (self.team_id or self.rep_id or self.by_territory):
            errors["team"] = "Choose the team (or the rep) this rule sends leads to."
        if self.team_id and not Rep.objects.assignable().filter(team_id=self.team_id).exists():
            errors["team"] = f"Team '{Team.objects.get(pk=self.team_id)}' has no active rep; add one or pick another."
        if self.rep_id and not Rep.objects.assignable().filter(pk=self.rep_id).exists():
            errors["rep"] = "This rep is switched off or cannot log in; switch them on or pick another."
        if self.fallback_team_id:
            if self.fallback_team_id == self.team_id:
                errors["fallback_team"] = "The fallback must be a different team."
            elif not Rep.objects.assignable().filter(team_id=self.fallback_team_id).exists():
                errors["fallback_team"] = "The fallback team has no active rep."
        if self.by_territory and not Territory.objects.exists():
            errors["by_territory"] = "No territories are defined yet; add them on the team or rep pages first."
        return errors

    def clean(self):
        errors = self.problems()
        if errors:
            raise ValidationError(errors)


class Assignment(models.Model):
    """Who a lead was given to, by which rule, why in words, and the first-touch clock running on it."""

    class Kind(models.TextChoices):
        ROUTE = "route", "Routed"
        SLA = "sla", "Reassigned after an SLA breach"
        MANUAL = "manual", "Reassigned by a person"
        HANDOVER = "handover", "Handed over: the owner cannot log in"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="assignments")
    rep = models.ForeignKey(Rep, on_delete=models.PROTECT, related_name="assignments")
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ROUTE)
    reason = models.TextField()
    # SLA reassignments in this lead's chain so far: the sweep escalates instead of hopping past the team's max.
    hop = models.PositiveSmallIntegerField(default=0)
    # When the first touch is due; cleared by the touch, by a newer assignment, or by the breach sweep.
    sla_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Indexed (partially, only breaches) for the SLA-breach report.
    breached_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = History()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["breached_at"], condition=Q(breached_at__isnull=False), name="assignment_breached")
        ]

    def __str__(self):
        return f"Lead {self.lead_id} → {self.rep}"
