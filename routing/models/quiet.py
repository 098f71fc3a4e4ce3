"""The law's quiet hours as data: when a business may text or call a lead in a place, on the lead's clock."""

from django.core.exceptions import ValidationError
from django.db import models

from audit.history import History
from leads.geo import territory_code
from routing import timing

FEDERAL = "US"
DAYS = (("weekdays", "Monday to Friday"), ("saturday", "Saturday"), ("sunday", "Sunday"))


def _day_fields(label: str) -> tuple[models.TimeField, models.TimeField]:
    return (
        models.TimeField(null=True, blank=True, help_text=f"{label}: earliest local time (blank both: closed)."),
        models.TimeField(null=True, blank=True, help_text=f"{label}: latest local time, exclusive."),
    )


class QuietHoursRule(models.Model):
    """When the law lets a business start a text or a call to a lead in one region, on the lead's own clock.

    ``US`` is the federal rule every lead gets (47 CFR 64.1200(c)(1): 8 a.m. to 9 p.m.); a state's row (``US-FL``)
    narrows it, never widens it. A day with no window means nothing goes that day. Seeded by migration routing
    0015 from the table in docs/quiet-hours.md, which gives each row's law, source and the date it was checked.
    Email is not governed by these rules (the state laws are about calls and texts).
    """

    region = models.CharField(
        max_length=10, unique=True, help_text="ISO 3166-2: 'US' for the federal rule, 'US-FL' for Florida."
    )
    name = models.CharField(max_length=100, blank=True, help_text="e.g. Florida.")
    weekdays_from, weekdays_until = _day_fields("Monday to Friday")
    saturday_from, saturday_until = _day_fields("Saturday")
    sunday_from, sunday_until = _day_fields("Sunday")
    holidays_closed = models.BooleanField(
        default=False, help_text="Nothing goes on the business's Holidays (Routing → Holidays), e.g. Rhode Island."
    )
    law = models.CharField(max_length=300, help_text="The law and section, e.g. Fla. Stat. § 501.616(6)(a).")
    source_url = models.URLField(max_length=300, blank=True, help_text="Where the text of the law was read.")
    checked_on = models.DateField(help_text="When someone last read the source.")
    note = models.TextField(blank=True, help_text="What is not modelled, or not confirmed, about this rule.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["region"]
        verbose_name = "quiet-hours rule (law)"

    def __str__(self):
        return f"{self.region} {self.name}".strip()

    @property
    def label(self) -> str:
        """'FL' for US-FL; 'the US' for the federal rule: the words of 'held for quiet hours in FL'."""
        return "the US" if self.region == FEDERAL else self.region.removeprefix("US-")

    def day_window(self, day: str) -> timing.Window | None:
        start, end = getattr(self, f"{day}_from"), getattr(self, f"{day}_until")
        return timing.Window(start, end) if start is not None and end is not None else None

    def week(self) -> timing.Week:
        return timing.Week(
            self.day_window("weekdays"), self.day_window("saturday"), self.day_window("sunday"), self.holidays_closed
        )

    def clean(self):
        errors = {}
        self.region = (self.region or "").strip().upper()
        if self.region != FEDERAL:
            try:
                self.region = territory_code("region", self.region)
            except ValueError as exc:
                errors["region"] = f"{exc} Use 'US' for the federal rule."
            else:
                if not self.region.startswith("US-"):
                    errors["region"] = "These rules are US law: use 'US' or a US state, e.g. US-FL."
        for day, label in DAYS:
            start, end = getattr(self, f"{day}_from"), getattr(self, f"{day}_until")
            if (start is None) != (end is None):
                errors[f"{day}_until"] = f"{label}: give both times, or neither for a closed day."
            elif start is not None and start >= end:
                errors[f"{day}_until"] = f"{label}: the window must end after it starts, within one day."
        if not errors and self.week().never_open:
            errors["weekdays_from"] = "At least one day needs a window: a region closed every day is never reached."
        if errors:
            raise ValidationError(errors)
