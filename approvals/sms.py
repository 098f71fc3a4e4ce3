"""An SMS's length in the house's terms: the managers' segment limit, and the text automatic drafts send.

The counting itself (encodings, segments, look-alikes) is ``integrations.sms_segments``; this module reads the
limit (``SmsSettings``) and is what proposing, deciding and the executor call, so one rule holds on every road.
"""

from django.core.exceptions import ValidationError

from approvals.models import SmsSettings
from config.versions import SETTINGS_KEY, Snapshot
from integrations.sms_segments import segment, typographic_fix

# The pipeline checks every text it proposes: the limit is read once per configuration, not per text.
_limit = Snapshot(SETTINGS_KEY, SmsSettings.max_segments_now, (SmsSettings,))


def sms_segment_limit() -> int:
    """How many segments one SMS may cost (SmsSettings; 3 until a manager changes it)."""
    return _limit.get()


def sms_too_long(body: str) -> str:
    """ "" when ``body`` fits the limit, else why not ("4 segments · UCS-2 because of 🏠; the limit is 3. …")."""
    return segment(body).limit_error(sms_segment_limit())


def sms_check(body: str) -> None:
    """Raise ValidationError naming ``body`` when the text costs more segments than the managers allow."""
    if too_long := sms_too_long(body):
        raise ValidationError({"body": too_long})


def sms_text(body: str, *, lead, rep_name: str = "") -> str:
    """The text an automatic SMS (a template, a model's rewrite) sends: typographic characters (’ “ – … no-break
    spaces) become their GSM-7 twins, so one curly apostrophe does not make it UCS-2 at 67 characters a segment.

    People's names are kept as written (the lead's, the rep's): a name that alone forces UCS-2 is counted, never
    respelled. Kept unchanged when the twins would cost more segments (an ellipsis is one UCS-2 unit, three dots
    three, in a text a name or an emoji keeps UCS-2 anyway).
    """
    names = (getattr(lead, "name", ""), getattr(lead, "first_name", ""), rep_name)
    fixed = typographic_fix(body, keep=names)
    return fixed if segment(fixed).count <= segment(body).count else body
