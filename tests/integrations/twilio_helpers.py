"""Signed Twilio callbacks for tests: the signature is made by twilio's own RequestValidator."""

import pytest
from twilio.request_validator import RequestValidator

from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN

PUBLIC = "https://nightshift.example.com"


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.SEND_RETRY_SECONDS = 0
    return settings


def signed_post(client, path: str, params: dict, *, url: str | None = None, token: str = AUTH_TOKEN):
    """POST form ``params`` as Twilio would, signed for ``url`` (default: the public URL of ``path``)."""
    signature = RequestValidator(token).compute_signature(url or PUBLIC + path, params)
    return client.post(path, params, headers={"X-Twilio-Signature": signature})


def sms_params(
    sid: str = "SM" + "a" * 32, body: str = "Hi, I need a roof quote in 30301", sender: str = "+15128670100"
):
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": "+15125550000",
        "Body": body,
        "NumMedia": "0",
        "FromCountry": "US",
    }
