import dataclasses
import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from audit.history import History
from integrations.llm import criteria as reasoning
from leads import geo
from leads.normalize import normalize_phone
from routing import assign, engine


def _time_zone_validate(value: str) -> None:
    if value not in available_time_zones():
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name such as America/Chicago.")


@cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def skill_set(text: str) -> frozenset[str]:
    """Comma- or line-separated skills, lower-cased: how reps' and leads' skills are compared."""
    return frozenset(part.strip().lower() for part in text.replace("\n", ",").split(",") if part.strip())


class Team(models.Model):
    """A group of reps that routing rules send leads to, with its first-touch SLA."""

    class SlaAction(models.TextChoices):
        REASSIGN = "reassign", "Reassign to the next rep"
        ALERT = "alert", "Alert a manager"
        BOTH = "both", "Reassign and alert a manager"

    name = models.CharField(max_length=100, unique=True)
    is_fallback = models.BooleanField(
        default=False,
        help_text="Leads no rule matches, or whose rule finds nobody available, go to this team. One team at most.",
    )
    sla_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Minutes a rep has for the first touch (a sent message, a logged call, or accepting the lead). "
        "Blank: no SLA.",
    )
    sla_action = models.CharField(max_length=10, choices=SlaAction.choices, default=SlaAction.BOTH)
    sla_max_hops = models.PositiveSmallIntegerField(
        default=2, help_text="Reassignments after which a breach goes to a manager instead of another rep."
    )
    slack_webhook_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Slack incoming-webhook URL for this team's alerts (hot lead, escalation, SLA breach). "
        "Blank: the SLACK_WEBHOOK_URL setting, if any.",
    )
    # Round-robin cursor: the rep who got the last lead. Read and moved under a row lock.
    last_assigned_rep = models.ForeignKey(
        "routing.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History(excluded_fields=["last_assigned_rep"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_fallback"], condition=Q(is_fallback=True), name="team_one_fallback")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.is_fallback and Team.objects.filter(is_fallback=True).exclude(pk=self.pk).exists():
            raise ValidationError({"is_fallback": "Another team is already the fallback team; unset it there first."})


class Rep(models.Model):
    """A salesperson who can own leads: availability, capacity, weight and skills steer routing to them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rep")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="reps")
    phone = models.CharField(
        max_length=20, blank=True, help_text="E.164, e.g. +15125550101: inbound calls for this rep's leads ring here."
    )
    active = models.BooleanField(default=True, help_text="Off: takes no new leads at all.")
    timezone = models.CharField(
        max_length=64, default=settings.TIME_ZONE, validators=[_time_zone_validate], help_text="IANA name."
    )
    weight = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Share of leads under weighted round-robin: a rep with weight 2 gets twice a weight-1 rep's.",
    )
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most open leads this rep may hold; blank: no cap."
    )
    languages = models.CharField(max_length=200, blank=True, help_text="Comma-separated, e.g. en, es.")
    product_lines = models.CharField(max_length=300, blank=True, help_text="Comma-separated, e.g. roofing, siding.")
    lead_types = models.CharField(
        max_length=200, blank=True, help_text="Comma-separated, e.g. residential, commercial."
    )
    # Weighted round-robin credit; moved under the team's row lock.
    rotation_credit = models.IntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History(excluded_fields=["rotation_credit"])

    class Meta:
        ordering = ["team", "id"]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()

    def clean(self):
        for name in ("languages", "product_lines", "lead_types"):
            setattr(self, name, ", ".join(sorted(skill_set(getattr(self, name)))))
        try:
            self.phone = normalize_phone(self.phone, region=settings.DEFAULT_PHONE_REGION)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from exc


class WorkingHours(models.Model):
    """One working window of a rep on a weekday, in the rep's time zone. A rep with none is always on shift."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="After the start; a night shift is two windows, one each side of midnight.")

    history = History()

    class Meta:
        ordering = ["rep", "weekday", "start"]
        verbose_name_plural = "working hours"

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError({"end": "The end must be after the start."})


class Absence(models.Model):
    """Away or on vacation: a rep takes no new leads between ``starts_at`` and ``ends_at``."""

    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    history = History()

    class Meta:
        ordering = ["rep", "starts_at"]
        indexes = [models.Index(fields=["ends_at"])]

    def __str__(self):
        return f"{self.rep} away {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be after the start."})


class Territory(models.Model):
    """A country, region (ISO 3166-2, e.g. US-TX) or postal-code prefix owned by a rep or a whole team."""

    class Kind(models.TextChoices):
        COUNTRY = "country", "Country"
        REGION = "region", "Region"
        POSTAL = "postal", "Postal-code prefix"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    code = models.CharField(max_length=12, help_text="US · US-TX · 787 (every postal code starting 787).")
    rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.CASCADE, related_name="territories")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="territories")

    history = History()

    class Meta:
        ordering = ["kind", "code"]
        verbose_name_plural = "territories"
        indexes = [models.Index(fields=["kind", "code"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(rep__isnull=True, team__isnull=False) | Q(rep__isnull=False, team__isnull=True),
                name="territory_one_owner",
            )
        ]

    def __str__(self):
        return f"{self.code} ({self.rep or self.team})"

    def clean(self):
        if (self.rep_id is None) == (self.team_id is None):
            raise ValidationError("A territory belongs to a rep or to a team (exactly one).")
        try:
            self.code = geo.territory_code(self.kind, self.code)
        except ValueError as exc:
            raise ValidationError({"code": str(exc)}) from exc


class QualificationCriteria(models.Model):
    """What makes a lead worth a rep's time, in words a manager edits; the active row is used by every provider."""

    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    services = models.TextField(
        blank=True, help_text="Services the business offers, one per line; a lead asking for one fits."
    )
    service_area = models.TextField(blank=True, help_text="Postal-code prefixes served, one per line; blank: anywhere.")
    disqualifiers = models.TextField(blank=True, help_text="Words or phrases that rule a lead out, one per line.")
    intent_phrases = models.TextField(
        blank=True,
        help_text="Extra words that signal an intent, one intent per line: <code>quote_request: bid, ballpark</code>.",
    )
    budget_bands = models.TextField(
        blank=True,
        help_text="Budget bands, one per line: <code>small: 0-5000</code>, <code>large: 20000+</code>.",
    )
    required_facts = models.CharField(
        max_length=100,
        default="",
        blank=True,
        help_text="Facts a sales lead must give before it counts as qualified; missing ones are asked, one at a "
        "time. Any of: budget, postal_code, timeline. Blank: no clarifying questions.",
    )
    base_score = models.PositiveSmallIntegerField(default=35, validators=[MaxValueValidator(100)])
    weight_intent = models.PositiveSmallIntegerField(
        default=20, validators=[MaxValueValidator(100)], help_text="Added for a buying intent (project, quote, visit)."
    )
    weight_service = models.PositiveSmallIntegerField(default=20, validators=[MaxValueValidator(100)])
    weight_budget = models.PositiveSmallIntegerField(default=10, validators=[MaxValueValidator(100)])
    weight_timeline = models.PositiveSmallIntegerField(default=5, validators=[MaxValueValidator(100)])
    weight_urgency = models.PositiveSmallIntegerField(default=10, validators=[MaxValueValidator(100)])
    weight_area = models.PositiveSmallIntegerField(
        default=5, validators=[MaxValueValidator(100)], help_text="Added inside the service area (outside: -30)."
    )
    qualify_threshold = models.PositiveSmallIntegerField(
        default=50,
        validators=[MaxValueValidator(100)],
        help_text="Score (0-100) at or above which a lead is qualified.",
    )
    clarify_threshold = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(100)],
        help_text="Below the qualify threshold but at or above this, a lead with missing facts is asked for them.",
    )
    spam_threshold = models.PositiveSmallIntegerField(
        default=60,
        validators=[MaxValueValidator(100)],
        help_text="Spam score (links, gibberish, spam phrasing, no contact) at or above which a lead is spam.",
    )
    max_questions = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(10)], help_text="Clarifying questions before a person takes over."
    )
    voice = models.TextField(
        blank=True, help_text="How the business sounds, for model-written drafts (e.g. 'friendly, plain, no jargon')."
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

    def clean(self):
        errors = {}
        for name, parse in (
            ("intent_phrases", reasoning.intent_phrases_parse),
            ("budget_bands", reasoning.budget_bands_parse),
            ("required_facts", reasoning.required_facts_parse),
        ):
            try:
                parse(getattr(self, name))
            except ValueError as exc:
                errors[name] = str(exc)
        if self.clarify_threshold > self.qualify_threshold:
            errors["clarify_threshold"] = "The clarify threshold must not be above the qualify threshold."
        if errors:
            raise ValidationError(errors)

    def as_criteria(self) -> reasoning.Criteria:
        """The row as the plain data providers read."""
        return reasoning.Criteria(
            services=tuple(self.lines(self.services)),
            service_area=tuple(self.lines(self.service_area)),
            disqualifiers=tuple(self.lines(self.disqualifiers)),
            intent_phrases=reasoning.intent_phrases_parse(self.intent_phrases),
            budget_bands=reasoning.budget_bands_parse(self.budget_bands),
            required_facts=reasoning.required_facts_parse(self.required_facts),
            base_score=self.base_score,
            weight_intent=self.weight_intent,
            weight_service=self.weight_service,
            weight_budget=self.weight_budget,
            weight_timeline=self.weight_timeline,
            weight_urgency=self.weight_urgency,
            weight_area=self.weight_area,
            qualify_threshold=self.qualify_threshold,
            clarify_threshold=self.clarify_threshold,
            spam_threshold=self.spam_threshold,
            max_questions=self.max_questions,
            voice=self.voice.strip(),
        )


class IntentExample(models.Model):
    """A message labeled with its intent: what the embedding provider classifies by (nearest centroid)."""

    class Source(models.TextChoices):
        SEED = "seed", "Starter set"
        MANAGER = "manager", "Added by a manager"
        CORRECTION = "correction", "A rep's correction"

    intent = models.CharField(max_length=30, choices=[(i, i.replace("_", " ")) for i in reasoning.INTENTS])
    text = models.TextField()
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANAGER)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # float32 sentence vector of ``text``, computed on first use; cleared when the text changes.
    vector = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["intent", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["intent", "text"], name="intent_example_unique")]

    def __str__(self):
        return f"{self.intent}: {self.text[:60]}"


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
    conditions = models.JSONField(default=engine.empty_conditions, blank=True)
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
            engine.validate_conditions(self.conditions)
        except ValueError as exc:
            errors["conditions"] = str(exc)
        if self.team_id and self.rep_id:
            errors["rep"] = "Send to a team or to a rep, not both."
        elif not (self.team_id or self.rep_id or self.by_territory):
            errors["team"] = "Choose the team (or the rep) this rule sends leads to."
        if self.team_id and not Rep.objects.filter(team_id=self.team_id, active=True).exists():
            errors["team"] = f"Team '{Team.objects.get(pk=self.team_id)}' has no active rep; add one or pick another."
        if self.rep_id and not Rep.objects.filter(pk=self.rep_id, active=True).exists():
            errors["rep"] = "This rep is switched off; switch them on or pick another."
        if self.fallback_team_id:
            if self.fallback_team_id == self.team_id:
                errors["fallback_team"] = "The fallback must be a different team."
            elif not Rep.objects.filter(team_id=self.fallback_team_id, active=True).exists():
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
