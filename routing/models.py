from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from audit.history import History
from routing import engine


class Team(models.Model):
    """A group of reps that routing rules send leads to."""

    name = models.CharField(max_length=100, unique=True)
    # Round-robin cursor: the rep who got the last lead. Read and moved under a row lock.
    last_assigned_rep = models.ForeignKey(
        "routing.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History(excluded_fields=["last_assigned_rep"])

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Rep(models.Model):
    """A salesperson who can own leads; ``active`` off takes them out of rotation."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rep")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="reps")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["team", "id"]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()


class QualificationCriteria(models.Model):
    """What makes a lead worth a rep's time, in words a manager edits; the active row is used."""

    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    services = models.TextField(
        blank=True, help_text="Services the business offers, one per line; a lead asking for one fits."
    )
    service_area = models.TextField(blank=True, help_text="Postal-code prefixes served, one per line; blank: anywhere.")
    disqualifiers = models.TextField(blank=True, help_text="Words or phrases that rule a lead out, one per line.")
    qualify_threshold = models.PositiveSmallIntegerField(
        default=50, help_text="Score (0-100) at or above which a lead counts as qualified."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["-active", "name"]
        verbose_name_plural = "qualification criteria"

    def __str__(self):
        return self.name

    @staticmethod
    def lines(text: str) -> list[str]:
        return [line.strip().lower() for line in text.splitlines() if line.strip()]


class RoutingRule(models.Model):
    """Sends leads matching its conditions to a team; rules are tried in priority order (lowest first)."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round-robin"

    name = models.CharField(max_length=100)
    priority = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)
    conditions = models.JSONField(
        default=engine.empty_conditions,
        blank=True,
        help_text=(
            'JSON: {"match": "all" | "any", "conditions": [{"field": "channel", "op": "equals", "value": "sms"}]}. '
            f"Fields: {', '.join(engine.FIELDS)}. Operators: {', '.join(engine.OPERATORS)}. "
            "No conditions: matches every lead."
        ),
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="rules")
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        try:
            engine.validate_conditions(self.conditions)
        except ValueError as exc:
            raise ValidationError({"conditions": str(exc)}) from exc


class Assignment(models.Model):
    """Who a lead was given to, by which rule, and why in words."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="assignments")
    rep = models.ForeignKey(Rep, on_delete=models.PROTECT, related_name="assignments")
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    history = History()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Lead {self.lead_id} → {self.rep}"
