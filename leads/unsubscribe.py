"""One-click unsubscribe for email (RFC 8058 with RFC 2369's List-Unsubscribe): signed links, no login.

Every email to a lead carries ``List-Unsubscribe: <https://…/unsubscribe/<token>/>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``. A mail provider's one-click POST to that URL opts
the address out; a GET (a person's click, or a link scanner) only shows a page with a button that POSTs, so
a scanner never unsubscribes anyone. The token is signed (django.core.signing), so nobody unsubscribes an
address they were not sent.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "nightshift.unsubscribe"


def unsubscribe_token(lead_id: int, email: str) -> str:
    """The signed token naming one lead's address; it does not expire (RFC 8058 links must keep working)."""
    return signing.dumps({"lead": lead_id, "email": email.strip().lower()}, salt=SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str] | None:
    """(lead id, email) from a token, or None when it was not signed by us or was altered."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("lead"), int) or not data.get("email"):
        return None
    return data["lead"], str(data["email"])


def unsubscribe_url(lead_id: int, email: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("unsubscribe", args=[unsubscribe_token(lead_id, email)])


def list_unsubscribe_headers(lead_id: int, email: str) -> dict[str, str]:
    """The two headers RFC 8058 asks of a message with a one-click unsubscribe."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(lead_id, email)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
