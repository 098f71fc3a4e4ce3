"""Microsoft 365's free/busy: Graph ``POST {base}/users/{mailbox}/calendar/getSchedule`` with a bearer token.

Request ``{"schedules": [mailbox], "startTime": {"dateTime", "timeZone": "UTC"}, "endTime": {…},
"availabilityViewInterval": 15}`` and ``Prefer: outlook.timezone="UTC"``; the answer ``{"value": [{"scheduleId",
"availabilityView", "scheduleItems": [{"status", "start": {"dateTime", "timeZone"}, "end": {…}}], "error"?}]}``
(Microsoft Graph v1.0, calendar: getSchedule; a period of at most 42 days). Items whose status is free or
workingElsewhere leave the time free; busy, tentative, oof and unknown hold it.
"""

from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from integrations.calendars.account import Busy, CalendarAccount, CalendarError, json_post

FREE = {"free", "workingelsewhere"}


def _time(value: dict) -> datetime:
    # Graph writes seven fractional digits ("2026-12-08T15:00:00.0000000"); Python reads at most six.
    text = value["dateTime"]
    whole, _, fraction = text.partition(".")
    moment = datetime.fromisoformat(whole + (f".{fraction[:6]}" if fraction else ""))
    zone = value.get("timeZone") or "UTC"
    try:
        tz = UTC if zone.upper() == "UTC" else ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"time zone {zone!r}") from exc
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _wire(moment: datetime) -> dict:
    return {"dateTime": moment.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


def busy_read(account: CalendarAccount, start: datetime, end: datetime) -> list[Busy]:
    """The mailbox's busy blocks between ``start`` and ``end`` (UTC); CalendarError on any failure."""
    base = (account.url or settings.MICROSOFT_GRAPH_API).rstrip("/")
    body = {
        "schedules": [account.calendar_id],
        "startTime": _wire(start),
        "endTime": _wire(end),
        "availabilityViewInterval": 15,
    }
    answer = json_post(
        f"{base}/users/{quote(account.calendar_id)}/calendar/getSchedule",
        body,
        account=account,
        what="Microsoft Graph",
        headers={"Prefer": 'outlook.timezone="UTC"'},
    )
    try:
        schedule = next(
            s for s in answer["value"] if str(s.get("scheduleId", "")).lower() == account.calendar_id.lower()
        )
        if schedule.get("error"):
            why = schedule["error"].get("message") or schedule["error"].get("responseCode") or "error"
            raise CalendarError(f"Microsoft Graph could not read {account.calendar_id}: {why}", reason="refused")
        return [
            (_time(item["start"]), _time(item["end"]))
            for item in schedule.get("scheduleItems", [])
            if str(item.get("status", "busy")).lower() not in FREE
        ]
    except (KeyError, TypeError, ValueError, StopIteration) as exc:
        raise CalendarError(f"Microsoft Graph's answer is not a getSchedule response ({exc!r})") from exc
