"""A team that books: reps with weekday hours on one clock, and a booking type they host (for the booking tests)."""

from datetime import time

from django.contrib.auth import get_user_model

from routing.models import BookingType, Rep, Team, WorkingHours


def booking_team(n: int = 2, *, tz: str = "America/Chicago", name: str = "Estimators", **booking) -> BookingType:
    """``n`` reps (est0…) working 9-17 Monday to Friday on ``tz``, and a 60-minute round-robin type for their team."""
    team = Team.objects.create(name=name)
    for i in range(n):
        user = get_user_model().objects.create_user(
            f"{name.lower()}{i}", password="x", first_name=f"Est{i}", email=f"{name.lower()}{i}@example.com"
        )
        rep = Rep.objects.create(user=user, team=team, timezone=tz)
        WorkingHours.objects.bulk_create(
            WorkingHours(rep=rep, weekday=day, start=time(9), end=time(17)) for day in range(5)
        )
    fields = {"name": "Estimate visit", "slug": "estimate", "duration_minutes": 60, "min_notice_minutes": 120}
    booking_type = BookingType.objects.create(**{**fields, **booking})
    booking_type.teams.add(team)
    # Hours were bulk-created (no save signal): the routing snapshot must hear of them.
    from routing.directory import config_changed

    config_changed()
    return booking_type


def reps_of(booking_type: BookingType) -> list[Rep]:
    return list(Rep.objects.filter(team__booking_types=booking_type).select_related("user").order_by("pk"))
