"""Consent to be texted: carrier keywords opt a number out of every SMS, or back in; what waits is cancelled.

The opt-out is recorded here and everything that must follow (waiting texts cancelled, cadences stopped)
reacts to ``LEAD_OPTED_OUT`` inside the same transaction.
"""

import contextlib
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import Decision
from audit.services import decision_record
from leads.lock_objects import leads_lock_by_phone
from leads.models import SmsOptOut
from leads.normalize import normalize_phone
from leads.reactions import LEAD_OPTED_OUT

logger = logging.getLogger(__name__)

# Carrier keywords (CTIA): matched on the whole message, any case, surrounding spaces ignored.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP"})


def sms_keyword(body: str) -> str:
    """'stop', 'start', 'help' or '' for an inbound text."""
    word = (body or "").strip().upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return "help" if word in HELP_WORDS else ""


@transaction.atomic
def sms_consent_set(*, phone: str, keyword: str) -> None:
    """Opt the number out of every SMS (STOP…) or back in (START/UNSTOP), and say so on its lead's timeline.

    Waiting SMS actions for the number are cancelled with the reason, so no one approves a text
    that can no longer go.
    """
    # A short code or an alphanumeric sender does not normalize: it is kept as Twilio gave it.
    with contextlib.suppress(ValidationError):
        phone = normalize_phone(phone, region=settings.DEFAULT_PHONE_REGION) or phone
    opting_out = keyword.upper() in STOP_WORDS
    if opting_out:
        SmsOptOut.objects.get_or_create(phone=phone, defaults={"keyword": keyword.upper()})
    else:
        SmsOptOut.objects.filter(phone=phone).delete()
    for lead in leads_lock_by_phone(phone):
        if lead.opted_out != opting_out:
            lead.opted_out = opting_out
            lead._change_reason = f"texted {keyword.upper()}"
            lead.save(update_fields=["opted_out", "updated_at"])
        cancelled = 0
        if opting_out:
            reason = f"The number texted {keyword.upper()}."
            cancelled = sum(filter(None, LEAD_OPTED_OUT.send(lead=lead, channel="sms", reason=reason)))
        decision_record(
            step=Decision.Step.CONSENT,
            lead=lead,
            input_summary=keyword,
            output={"opted_out": opting_out, "cancelled": cancelled},
            reasoning=f"Texted {keyword.upper()}: "
            + ("no SMS will be sent to this number" if opting_out else "SMS allowed again")
            + (f"; {cancelled} waiting text(s) cancelled." if cancelled else "."),
        )
    logger.info("sms.consent", extra={"opted_out": opting_out, "keyword": keyword.upper()})
