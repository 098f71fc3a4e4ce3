"""Who a calendar is (an account, its secret read from a reference) and how its failures read."""

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests

Busy = tuple[datetime, datetime]


class CalendarError(Exception):
    """A calendar server could not be read or written: down, slow, refusing the credential, or answering nonsense.

    ``reason`` is one word for reports and logs: timeout, unreachable, refused, invalid, unsupported.
    """

    def __init__(self, message: str, *, reason: str = "invalid"):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CalendarAccount:
    """What a backend needs to reach one calendar (the secret resolved from its reference); seconds for timeout."""

    kind: str
    url: str
    username: str
    secret: str
    calendar_id: str
    timeout: float
    zone: str = "UTC"  # the rep's clock: an all-day or floating event holds its time there


def secret_resolve(reference: str) -> str:
    """The secret a reference points at: ``env:NAME`` (an environment variable) or ``file:/path`` (its first line).

    Raises CalendarError (reason ``refused``) naming the reference, never the secret, when it points at nothing.
    """
    reference = reference.strip()
    if reference.startswith("env:"):
        value = os.environ.get(reference[4:].strip(), "")
    elif reference.startswith("file:"):
        try:
            value = Path(reference[5:]).read_text().splitlines()[0] if Path(reference[5:]).is_file() else ""
        except (OSError, IndexError):
            value = ""
    else:
        raise CalendarError(f"{reference!r} is not a reference (env:NAME or file:/path)", reason="refused")
    if not value.strip():
        raise CalendarError(f"nothing found at {reference}", reason="refused")
    return value.strip()


def http_error(exc: Exception, what: str) -> CalendarError:
    """A requests failure as a CalendarError with its reason (timeout, unreachable)."""
    if isinstance(exc, requests.Timeout):
        return CalendarError(f"{what} did not answer in time", reason="timeout")
    return CalendarError(f"{what} is unreachable ({exc.__class__.__name__})", reason="unreachable")


def json_post(url: str, body: dict, *, account: CalendarAccount, what: str, headers: dict | None = None) -> dict:
    """POST ``body`` as JSON with the account's bearer token, within its timeout; the answer's JSON.

    CalendarError: ``timeout``, ``unreachable`` (no answer, or not 200), ``refused`` (401, 403), ``invalid`` (not JSON).
    """
    try:
        response = requests.post(
            url,
            json=body,
            headers={"Authorization": f"Bearer {account.secret}", **(headers or {})},
            timeout=account.timeout,
        )
    except requests.RequestException as exc:
        raise http_error(exc, what) from exc
    if response.status_code in (401, 403):
        raise CalendarError(f"{what} refused the token ({response.status_code})", reason="refused")
    if response.status_code != 200:
        raise CalendarError(f"{what} answered {response.status_code}", reason="unreachable")
    try:
        return response.json()
    except ValueError as exc:
        raise CalendarError(f"{what}'s answer is not JSON") from exc
