"""A local server speaking the part of Twilio's REST API we call (Messages), reached through the real SDK."""

import base64
import itertools
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone

from tests.fakes.http_server import LocalJsonServer

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"


def twilio_error(status: int, code: int, message: str) -> tuple[int, dict]:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio(LocalJsonServer):
    """Accepts Messages.json creates, and lists them newest first (``To`` filter), with the account's Basic auth.

    ``fail(body)`` may answer instead with (status, json), or return None to let the message through.
    """

    def __init__(self, fail=None):
        self.fail = fail
        self.messages: list[dict] = []
        self._sids = itertools.count(1)
        super().__init__(self._respond)

    def _respond(self, method, path, headers, body):
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if headers.get("Authorization") != expected:
            return twilio_error(401, 20003, "Authenticate")
        url = urlsplit(path)
        if url.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return twilio_error(404, 20404, f"The requested resource {path} was not found")
        if method == "GET":
            return 200, self._list(parse_qs(url.query))
        if self.fail is not None and (answer := self.fail(body)) is not None:
            return answer
        if not body.get("From") and not body.get("MessagingServiceSid"):
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        sid = f"SM{next(self._sids):032x}"
        self.messages.append({**body, "sid": sid, "date_created": format_datetime(timezone.now(), usegmt=True)})
        return 201, self._resource(self.messages[-1])

    def _list(self, query: dict) -> dict:
        to = query.get("To", [None])[0]
        found = [self._resource(m) for m in reversed(self.messages) if to is None or m["To"] == to]
        size = int(query.get("PageSize", ["50"])[0])
        return {"messages": found[:size], "next_page_uri": None, "page": 0, "page_size": size, "uri": "/"}

    def _resource(self, body: dict) -> dict:
        return {
            "sid": body["sid"],
            "account_sid": ACCOUNT_SID,
            "status": "queued",
            "to": body["To"],
            "from": body.get("From"),
            "messaging_service_sid": body.get("MessagingServiceSid"),
            "body": body["Body"],
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": body["date_created"],
        }
