"""Google Calendar's free/busy: ``POST {base}/freeBusy`` with a bearer token.

Request ``{"timeMin", "timeMax", "timeZone": "UTC", "items": [{"id": <calendar id>}]}`` (RFC 3339 times); the answer
``{"kind": "calendar#freeBusy", "calendars": {<id>: {"busy": [{"start", "end"}], "errors": [{"domain", "reason"}]}}}``
(Google Calendar API v3, freebusy.query). A calendar answering with ``errors`` (notFound, an unshared calendar) is
a failure, not a free day: treating it as free would book over whatever it hides.
"""

from datetime import datetime

from django.conf import settings

from integrations.calendars.account import Busy, CalendarAccount, CalendarError, json_post


def _time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no offset")
    return moment


def busy_read(account: CalendarAccount, start: datetime, end: datetime) -> list[Busy]:
    """The calendar's busy blocks between ``start`` and ``end`` (UTC); CalendarError on any failure."""
    base = (account.url or settings.GOOGLE_CALENDAR_API).rstrip("/")
    body = {
        "timeMin": start.isoformat().replace("+00:00", "Z"),
        "timeMax": end.isoformat().replace("+00:00", "Z"),
        "timeZone": "UTC",
        "items": [{"id": account.calendar_id}],
    }
    answer = json_post(f"{base}/freeBusy", body, account=account, what="Google Calendar")
    try:
        calendar = answer["calendars"][account.calendar_id]
        if calendar.get("errors"):
            reasons = ", ".join(str(e.get("reason", "?")) for e in calendar["errors"])
            raise CalendarError(f"Google Calendar could not read {account.calendar_id}: {reasons}", reason="refused")
        return [(_time(b["start"]), _time(b["end"])) for b in calendar.get("busy", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise CalendarError(f"Google Calendar's answer is not a freeBusy response ({exc})") from exc
