"""Who an export or erasure request is about, and the tools every app uses to gather or blank its rows about them.

A request names a phone number or an email address (or, from the lead page, a lead). ``person_find`` turns it
into a :class:`Person`: the normalized addresses, the leads that carry them, and every string that names the
person (addresses as typed, names, companies), which the apps' receivers of ``PERSON_FORGET`` and
``PERSON_EXPORT`` (leads.reactions) use to find and blank their own rows. Each app knows its own personal
fields; this module knows how to blank a field on a row and on its simple-history rows, the same way everywhere.
"""

import contextlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

import phonenumbers
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from leads.lock_objects import lead_lock, leads_lock_by_email, leads_lock_by_phone
from leads.models import InboundEvent, Lead, contact_digest
from leads.normalize import normalize_email, normalize_phone

# What replaces a person's own words (a message, a note, a draft) wherever the text itself is not needed.
FORGOTTEN = "[forgotten]"
# The tombstone's name: the lead row stays, so reports still count it.
FORGOTTEN_NAME = "Forgotten person"

# Keys of JSON (a Decision's output, a lead's qualification, an action's payload) whose strings are categories,
# not words: kept by Person.scrub. Every other string is replaced: an unknown key is treated as words.
CATEGORY_KEYS = frozenset(
    {
        "asked",
        "asks_for",
        "before",
        "budget_band",
        "channel",
        "error_code",
        "how",
        "intent",
        "kind",
        "missing",
        "mode",
        "model",
        "outcome",
        "policy_mode",
        "provider",
        "provider_id",
        "reviewer",
        "rewritten_by",
        "stage",
        "status",
        "step",
        "stop",
        "urgency",
        "workflow",
    }
)


@dataclass(frozen=True)
class Person:
    """One person across the house.

    ``phones`` (E.164) and ``emails`` (lower case) are the addresses asked about plus those of ``lead_ids``
    (every lead carrying one of them: at most one per address, since leads are deduplicated by both).
    ``words`` are the strings that name the person, longest first: used to redact system texts on rows
    already known to be theirs, never to find rows (a name is not unique; an address is).
    """

    phones: frozenset[str]
    emails: frozenset[str]
    lead_ids: tuple[int, ...]
    words: tuple[str, ...]

    @property
    def digests(self) -> dict[str, set[str]]:
        """{"sms": digests of the phones, "email": digests of the emails}: what the suppression list keys on."""
        return {"sms": {contact_digest(p) for p in self.phones}, "email": {contact_digest(e) for e in self.emails}}

    @cached_property
    def _pattern(self) -> re.Pattern | None:
        if not self.words:
            return None
        return re.compile("|".join(re.escape(w) for w in self.words), re.IGNORECASE)

    def redact(self, text: str) -> str:
        """``text`` with every string that names the person replaced by FORGOTTEN (for system texts: reasons,
        errors, change reasons, where the rest of the sentence is the system's own)."""
        if not text or self._pattern is None:
            return text
        return self._pattern.sub(FORGOTTEN, text)

    def scrub(self, value, key: str = ""):
        """JSON with every string replaced by FORGOTTEN unless its key is a category (CATEGORY_KEYS);
        numbers, booleans and nulls are kept (counts, ids, scores)."""
        if isinstance(value, dict):
            return {k: self.scrub(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v, key) for v in value]
        if isinstance(value, str) and value and key not in CATEGORY_KEYS:
            return FORGOTTEN
        return value

    def found_in(self, field: str) -> Q:
        """Rows whose ``field`` (text or JSON) mentions one of the person's addresses, in the forms a provider
        sends them (E.164, digits only, the national number). Q(pk__in=[]) when there is no address."""
        needles = set(self.emails)
        for phone in self.phones:
            needles |= {phone, phone.lstrip("+")}
            with contextlib.suppress(phonenumbers.NumberParseException):
                national = str(phonenumbers.parse(phone).national_number)
                if len(national) >= 8:  # shorter numbers would match unrelated digits
                    needles.add(national)
        query = Q(pk__in=[])
        for needle in sorted(needles):
            query |= Q(**{f"{field}__icontains": needle})
        return query


def _phone(raw: str) -> str:
    try:
        return normalize_phone(raw, region=settings.DEFAULT_PHONE_REGION)
    except ValidationError:
        raise ValidationError({"phone": f"'{raw}' is not a phone number."}) from None


def _email(raw: str) -> str:
    try:
        return normalize_email(raw)
    except ValidationError:
        raise ValidationError({"email": f"'{raw}' is not an email address."}) from None


def person_find(*, phone: str = "", email: str = "", lead_id: int | None = None, lock: bool = False):
    """The person a request names, and their leads (locked in id order when ``lock``): returns (Person, leads).

    ``phone`` and ``email`` are normalized as capture normalizes them; ``lead_id`` adds that lead (and with it
    its own addresses). Raises ValidationError ("phone", "email", "person") for an address that is not one,
    or when nothing names a person; Lead.DoesNotExist for an unknown ``lead_id``.
    """
    phone, email = _phone(phone) if phone else "", _email(email) if email else ""
    if not (phone or email or lead_id):
        raise ValidationError({"person": "Give a phone number or an email address."})
    found: dict[int, Lead] = {}
    if lead_id is not None:
        lead = lead_lock(lead_id) if lock else Lead.objects.get(pk=lead_id)
        found[lead.pk] = lead
        phone, email = phone or lead.phone, email or lead.email
    for address, by_lock, field in ((phone, leads_lock_by_phone, "phone"), (email, leads_lock_by_email, "email")):
        if address:
            rows = by_lock(address) if lock else Lead.objects.filter(**{field: address})
            found.update({row.pk: row for row in rows})
    leads = [found[pk] for pk in sorted(found)]
    phones = {p for p in [phone, *(lead.phone for lead in leads)] if p}
    emails = {e for e in [email, *(lead.email for lead in leads)] if e}
    person = Person(
        phones=frozenset(phones),
        emails=frozenset(emails),
        lead_ids=tuple(sorted(found)),
        words=_words(leads, phones, emails),
    )
    return person, leads


def _words(leads: list[Lead], phones: Iterable[str], emails: Iterable[str]) -> tuple[str, ...]:
    """Every string that names the person: addresses (E.164, digits, and as typed), names and each of their
    parts, companies (whole: a company's words alone, "Roofing", name nobody)."""
    words = set(phones) | set(emails) | {p.lstrip("+") for p in phones}
    names = {lead.name for lead in leads}
    typed = InboundEvent.objects.filter(lead__in=leads).values_list("name", "phone", "email", "company")
    for name, *addresses in typed:
        names.add(name)
        words |= {value.strip() for value in addresses}
    words |= {lead.company.strip() for lead in leads}
    names.discard(FORGOTTEN_NAME)
    for name in names:
        words |= {name.strip(), *name.split()}
    # Three characters at least: shorter strings ("Al", "NY") would blank unrelated words.
    return tuple(sorted((w for w in words if len(w) >= 3), key=lambda w: (-len(w), w)))


# A field's new value: a constant, or a function of (old value, person).
Change = Callable[[object, Person], object] | str | dict | list | None


def words_forgotten(value, person: Person):
    """The person's own words (a message, a note): FORGOTTEN where there was text, blank stays blank."""
    return FORGOTTEN if value else value


def redacted(value, person: Person):
    """A system text (a reason, an error): only the strings that name the person are replaced."""
    return person.redact(value)


def scrubbed(value, person: Person):
    """JSON: categories and numbers kept, every other string replaced (Person.scrub)."""
    return person.scrub(value)


def _apply(queryset: models.QuerySet, changes: dict[str, Change], person: Person) -> int:
    constants = {name: value for name, value in changes.items() if not callable(value)}
    computed = {name: value for name, value in changes.items() if callable(value)}
    if not computed:
        return queryset.update(**constants)
    count = 0
    for row in queryset.values("pk", *computed):
        new = {name: change(row[name], person) for name, change in computed.items()}
        count += queryset.model._default_manager.filter(pk=row["pk"]).update(**constants, **new)
    return count


def rows_forget(queryset: models.QuerySet, changes: dict[str, Change], person: Person) -> tuple[int, int]:
    """Apply ``changes`` to every row of ``queryset``, to their simple-history rows, and to the admin's log of
    them (its object_repr names the row); returns (rows, history rows) changed.

    Uses the model's default manager, so a model that refuses updates (the consent ledger) still refuses.
    History rows also get their change reason redacted. Timestamps are kept (update() does not touch auto_now).
    """
    model = queryset.model
    pks = list(queryset.values_list("pk", flat=True))
    if not pks:
        return 0, 0
    count = _apply(model._default_manager.filter(pk__in=pks), changes, person)
    history = 0
    attribute = getattr(model._meta, "simple_history_manager_attribute", None)
    if attribute:
        historical = getattr(model, attribute).model
        rows = historical._default_manager.filter(**{f"{model._meta.pk.attname}__in": pks})
        history = _apply(rows, {**changes, "history_change_reason": redacted}, person)
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=[str(pk) for pk in pks]
    ).update(object_repr=FORGOTTEN)
    return count, history


# Fields never exported: credentials (a chat session's bearer token) and binary blobs (a sentence vector).
NOT_EXPORTED = frozenset({"token", "secret", "key_hash", "vector"})


def rows_export(queryset: models.QuerySet) -> list[dict]:
    """Every row of ``queryset`` as a dict of its concrete fields (foreign keys as ids), credentials left out."""
    names = [
        f.attname
        for f in queryset.model._meta.concrete_fields
        if f.name not in NOT_EXPORTED and not isinstance(f, models.BinaryField)
    ]
    return list(queryset.values(*names))


def history_export(queryset: models.QuerySet) -> list[dict]:
    """The simple-history rows of the rows of ``queryset`` (what each saved version held), oldest first."""
    model = queryset.model
    historical = getattr(model, model._meta.simple_history_manager_attribute).model
    pks = list(queryset.values_list("pk", flat=True))
    rows = historical._default_manager.filter(**{f"{model._meta.pk.attname}__in": pks})
    return rows_export(rows.order_by("history_date", "history_id"))
