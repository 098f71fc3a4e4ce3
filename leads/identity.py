"""Who an inbound event is from: attach it to a known lead, keep a different person apart, or start a lead.

Pure: it reads the phone, email and name of the (at most two) leads that hold the event's phone or email,
as ``leads.selectors.lead_match_by_contact`` finds them in one query. The rules, for people, are in the README
("How leads are deduplicated"):

- the same phone with no email, or with the lead's own email, is the same person (an SMS, a call, a reply);
- the same phone with an email the lead does not have is a *different* person unless the names clearly agree
  (Alex's office line, then Blake's form with his own email); with a lead that has no email yet, it is the
  same person unless the names clearly differ. The same for the same email with another phone;
- a different person becomes a lead of their own, linked to the lead that holds the shared address; it cannot
  hold that address too (each phone and each email belongs to one lead), so it is reached on its own one.
"""

import re
import unicodedata
from dataclasses import dataclass

# Honorifics people put before a name on forms: not a name, so not evidence either way.
TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "mme", "mlle", "herr", "frau", "sr", "sra", "srta"}
)
_WORD = re.compile(r"[^\W_]+")


def name_words(name: str) -> tuple[str, ...]:
    """A name's words for comparison: case and accents folded, punctuation and titles dropped."""
    folded = unicodedata.normalize("NFKD", name or "").casefold()
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return tuple(w for w in _WORD.findall(plain) if w not in TITLES)


def _same_word(a: str, b: str) -> bool:
    # An initial ("J.") agrees with any word it begins.
    return a == b or (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


def names_agree(a: str, b: str) -> bool | None:
    """True when two names are clearly one person's ("Dana" / "dana Whitfield" / "Dr. Dána W."), False when
    they clearly are not ("Alex Rivera" / "Blake Chen"), None when either is blank (no evidence).

    The first words must agree, and the last words too when both names have more than one.
    """
    first, second = name_words(a), name_words(b)
    if not first or not second:
        return None
    if not _same_word(first[0], second[0]):
        return False
    if len(first) > 1 and len(second) > 1:
        return _same_word(first[-1], second[-1])
    return True


@dataclass(frozen=True)
class Match:
    """What capture does with an event: attach to ``lead`` (None: start one).

    ``phone`` and ``email`` are the event's addresses the lead may hold (a blank one of an attached lead is
    filled with it); "" where another person's lead holds it. ``linked_to`` is that other lead, and
    ``linked_by`` ("phone" or "email") what the two share.
    """

    lead: object | None
    phone: str
    email: str
    linked_to: object | None = None
    linked_by: str = ""


def same_person(lead, *, via: str, phone: str, email: str, name: str) -> bool:
    """Whether the event (``phone``, ``email``, ``name``) is the person of ``lead``, which holds its ``via``
    address ("phone" or "email")."""
    other = email if via == "phone" else phone
    held = lead.email if via == "phone" else lead.phone
    if not other or held == other:
        return True
    agree = names_agree(lead.name, name)
    if held:
        # Another address of the same kind: one person's second address only when the names clearly agree.
        return agree is True
    # The lead has none of that kind yet: the event completes it, unless the names clearly differ.
    return agree is not False


def event_match(candidates, *, phone: str, email: str, name: str) -> Match:
    """The decision for an event with these normalized ``phone`` and ``email`` (either may be "") and ``name``,
    given the leads holding either address (``candidates``: at most one per address, both keys being unique).

    The phone's lead is asked first, then the email's (the older rule, kept where both fit). When both
    addresses are held by other people, the event cannot get a lead of its own to reach it by: it attaches to
    the phone's lead and is linked to the email's, so a manager sees it (the page shows both).
    """
    by_phone = next((c for c in candidates if phone and c.phone == phone), None)
    by_email = next((c for c in candidates if email and c.email == email), None)
    for lead, via in ((by_phone, "phone"), (by_email, "email")):
        if lead is not None and same_person(lead, via=via, phone=phone, email=email, name=name):
            return _attach(lead, by_phone, by_email, phone, email)
    if by_phone is not None and by_email is not None:
        return _attach(by_phone, by_phone, by_email, phone, email)
    if by_phone is not None:
        return Match(lead=None, phone="", email=email, linked_to=by_phone, linked_by="phone")
    if by_email is not None:
        return Match(lead=None, phone=phone, email="", linked_to=by_email, linked_by="email")
    return Match(lead=None, phone=phone, email=email)


def _attach(lead, by_phone, by_email, phone: str, email: str) -> Match:
    """Attach to ``lead``; an address another lead holds is not given to it, and that lead is its link."""
    other_phone = by_phone is not None and by_phone is not lead
    other_email = by_email is not None and by_email is not lead
    linked_to, linked_by = (by_phone, "phone") if other_phone else (by_email, "email") if other_email else (None, "")
    return Match(
        lead=lead,
        phone="" if other_phone else phone,
        email="" if other_email else email,
        linked_to=linked_to,
        linked_by=linked_by,
    )
