"""Reps' connected calendars (CalDAV, Google, Microsoft): their busy times, and bookings written into them.

Not the invites: ``integrations.calendar`` emails those. One interface whatever the kind (:func:`busy_read`), so
free times and the commit-time check ask the same way; each module speaks one server's documented protocol.
"""

from integrations.calendars.account import CalendarAccount, CalendarError, secret_resolve
from integrations.calendars.reading import account_for, busy_read, connection_outcome
from integrations.calendars.write import CALENDAR_WRITE_TASK, calendar_write, calendar_writes_requeue

__all__ = [
    "CALENDAR_WRITE_TASK",
    "CalendarAccount",
    "CalendarError",
    "account_for",
    "busy_read",
    "connection_outcome",
    "calendar_write",
    "calendar_writes_requeue",
    "secret_resolve",
]
