"""A CalDAV calendar (RFC 4791) through the ``caldav`` client: its busy events, and our meetings PUT into it.

Busy: a time-range REPORT for VEVENTs, recurrences expanded; an event marked TRANSP:TRANSPARENT ("show as free")
or STATUS:CANCELLED holds no time. An all-day event holds its whole day on the rep's clock, as does a floating
time. Writes: each appointment is one resource, ``<calendar>/<uid>.ics``, PUT again on every change (the same
UID, a higher SEQUENCE) and DELETEd when cancelled; a resource stored in a calendar carries no METHOD (RFC 4791
section 4.1).
"""

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import caldav
import requests
from caldav.lib import error as dav_error

from integrations.calendars.account import Busy, CalendarAccount, CalendarError, http_error


def _client(account: CalendarAccount) -> caldav.DAVClient:
    return caldav.DAVClient(
        url=account.url, username=account.username or None, password=account.secret, timeout=account.timeout
    )


def _zone(account: CalendarAccount):
    try:
        return ZoneInfo(account.zone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _moment(value, zone) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)
    raise ValueError(f"not a time: {value!r}")


def _failure(exc: Exception) -> CalendarError:
    if isinstance(exc, requests.RequestException):
        return http_error(exc, "The CalDAV server")
    if isinstance(exc, dav_error.AuthorizationError):
        return CalendarError("The CalDAV server refused the credential", reason="refused")
    if isinstance(exc, OSError):
        return CalendarError(f"The CalDAV server is unreachable ({exc.__class__.__name__})", reason="unreachable")
    return CalendarError(f"The CalDAV server answered an error ({exc.__class__.__name__})")


def busy_read(account: CalendarAccount, start: datetime, end: datetime) -> list[Busy]:
    """The calendar's busy blocks between ``start`` and ``end`` (UTC); CalendarError on any failure."""
    zone = _zone(account)
    try:
        with _client(account) as client:
            found = client.calendar(url=account.url).search(start=start, end=end, event=True, expand=True)
            components = [c for obj in found for c in obj.icalendar_instance.walk("VEVENT")]
    except (requests.RequestException, dav_error.DAVError, OSError) as exc:
        raise _failure(exc) from exc
    blocks = []
    try:
        for event in components:
            if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
                continue
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            begins = event.decoded("DTSTART")
            if "DTEND" in event:
                ends = event.decoded("DTEND")
            elif "DURATION" in event:
                ends = begins + event.decoded("DURATION")
            else:  # RFC 5545 3.6.1: a date lasts one day; a date-time, no time at all
                ends = begins + timedelta(days=1) if not isinstance(begins, datetime) else begins
            blocks.append((_moment(begins, zone), _moment(ends, zone)))
    except (KeyError, ValueError, TypeError) as exc:
        raise CalendarError(f"The CalDAV server sent an event that cannot be read ({exc})") from exc
    return blocks


def resource_url(account: CalendarAccount, uid: str) -> str:
    return f"{account.url.rstrip('/')}/{quote(uid, safe='')}.ics"


def event_put(account: CalendarAccount, uid: str, ics: bytes) -> str:
    """Store (create or replace) our event with ``uid``; returns its resource URL. CalendarError on failure."""
    url = resource_url(account, uid)
    try:
        with _client(account) as client:
            response = client.put(url, ics.decode(), {"Content-Type": "text/calendar; charset=utf-8"})
    except (requests.RequestException, dav_error.DAVError, OSError) as exc:
        raise _failure(exc) from exc
    if response.status not in (200, 201, 204):
        reason = "refused" if response.status in (401, 403) else "invalid"
        raise CalendarError(f"The CalDAV server answered {response.status} to the PUT", reason=reason)
    return url


def event_delete(account: CalendarAccount, uid: str) -> None:
    """Remove our event with ``uid`` (already gone counts as removed); CalendarError on failure."""
    try:
        with _client(account) as client:
            response = client.delete(resource_url(account, uid))
    except dav_error.NotFoundError:
        return
    except (requests.RequestException, dav_error.DAVError, OSError) as exc:
        raise _failure(exc) from exc
    if response.status not in (200, 204, 404):
        raise CalendarError(f"The CalDAV server answered {response.status} to the DELETE")
