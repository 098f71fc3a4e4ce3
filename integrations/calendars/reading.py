"""The one interface to a rep's external calendar: its busy blocks, whatever the kind; how it last answered."""

from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from integrations.calendars import caldav_calendar, google_calendar, microsoft_calendar
from integrations.calendars.account import Busy, CalendarAccount, CalendarError, secret_resolve
from integrations.models import CalendarConnection

READERS = {
    CalendarConnection.Kind.CALDAV: caldav_calendar.busy_read,
    CalendarConnection.Kind.GOOGLE: google_calendar.busy_read,
    CalendarConnection.Kind.MICROSOFT: microsoft_calendar.busy_read,
}


def account_for(connection: CalendarConnection, *, zone: str = "UTC") -> CalendarAccount:
    """The connection as a backend reads it, on the rep's clock ``zone``; the secret is read now (CalendarError
    when it is missing)."""
    return CalendarAccount(
        kind=connection.kind,
        url=connection.url,
        username=connection.username,
        secret=secret_resolve(connection.credential_ref),
        calendar_id=connection.calendar_id,
        timeout=settings.CALENDAR_TIMEOUT_SECONDS,
        zone=zone,
    )


def busy_read(account: CalendarAccount, start: datetime, end: datetime) -> list[Busy]:
    """The busy blocks (UTC, sorted) of ``account``'s calendar overlapping [start, end).

    Raises CalendarError: the server is down (``unreachable``), slower than the account's timeout (``timeout``),
    refuses the credential (``refused``) or answers what its protocol does not allow (``invalid``).
    """
    if account.kind not in READERS:
        raise CalendarError(f"no reader for calendars of kind {account.kind!r}", reason="unsupported")
    blocks = READERS[account.kind](account, start.astimezone(UTC), end.astimezone(UTC))
    return sorted((a, b) for a, b in blocks if b > a)


def connection_outcome(connection_id: int, error: str = "") -> None:
    """Keep on the connection row when it last answered, or why it last failed (shown in the admin)."""
    now = timezone.now()
    if error:
        CalendarConnection.objects.filter(pk=connection_id).update(last_error=error[:300], last_error_at=now)
    else:
        CalendarConnection.objects.filter(pk=connection_id).update(last_ok_at=now, last_error="")
