"""Who can take leads: teams, reps, their working hours, absences and territories."""

import zoneinfo
from functools import cache

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from audit.history import History
from leads import geo
from leads.normalize import normalize_phone


def _time_zone_validate(value: str) -> None:
    if value not in available_time_zones():
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name such as America/Chicago.")


@cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# The backends that log a person in with their Django password and nothing else.
PASSWORD_BACKENDS = frozenset(
    {"django.contrib.auth.backends.ModelBackend", "django.contrib.auth.backends.AllowAllUsersModelBackend"}
)


def password_is_the_only_login() -> bool:
    """True when every configured authentication backend checks the Django password (the default setup)."""
    return set(settings.AUTHENTICATION_BACKENDS) <= PASSWORD_BACKENDS


def login_possible(user) -> bool:
    """Can this person log in at all: the rule for who may own and be offered leads.

    No, when the admin's *Active* box is off (``is_active``; Django's login refuses them whatever the
    backend), or when their password is unusable (``set_unusable_password``, the admin's "Password-based
    authentication: disabled") and the password is the only way in (AUTHENTICATION_BACKENDS holds only the
    model backends). With another backend (SSO, LDAP) configured, an unusable password proves nothing, so only
    ``is_active`` counts. :func:`no_login` is the same rule as a query.
    """
    if not user.is_active:
        return False
    return user.has_usable_password() or not password_is_the_only_login()


def no_login(prefix: str = "") -> Q:
    """:func:`login_possible` negated, as a filter on users (``prefix``: the path to the user, e.g. ``"user__"``)."""
    cannot = Q(**{f"{prefix}is_active": False})
    if password_is_the_only_login():
        cannot |= Q(**{f"{prefix}password__startswith": UNUSABLE_PASSWORD_PREFIX})
    return cannot


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


class RepQuerySet(models.QuerySet):
    def assignable(self) -> "RepQuerySet":
        """Reps a lead may be given to: switched on, and their user can log in (:func:`login_possible`)."""
        return self.filter(active=True).exclude(no_login("user__"))


class Rep(models.Model):
    """A salesperson who can own leads: availability, capacity, weight and skills steer routing to them.

    A rep whose user cannot log in (:func:`login_possible`) is given nothing, whatever ``active`` says,
    and their open leads go back to the routing rules (routing.handover).
    """

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
    objects = RepQuerySet.as_manager()

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
    """One working window of a rep on a weekday, in the rep's time zone. A rep with none is always on shift.

    The business's Holidays (Routing → Holidays, a date on the rep's clock) close a rep's working hours; a rep
    with no hours at all is taken to work every day, holidays too.
    """

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
