"""The consent ledger's rules, and the one-way hash the suppression list keeps of an address.

Consent records are evidence: appended, never updated or deleted (``AppendOnlyQuerySet``), with one sanctioned
exception, ``anonymise``, which erasure (leads.services.erasure) uses when the person is forgotten.
"""

import hashlib
import re

from django.db import models

DIGEST = re.compile(r"^[0-9a-f]{64}$")


def contact_digest(address: str) -> str:
    """A one-way hash of a normalized phone (E.164) or email (lower case): what the suppression list keeps."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


class AppendOnlyQuerySet(models.QuerySet):
    """The ledger's rows are evidence: a bulk update or delete is refused; ``anonymise`` is the one exception."""

    def update(self, **kwargs):
        raise PermissionError("Consent records are never updated.")

    def delete(self):
        raise PermissionError("Consent records are never deleted.")

    def anonymise(self) -> int:
        """The one sanctioned change to the ledger, for erasure (leads.services.erasure): returns the rows changed.

        Each record keeps what it proves (kind, channel, how, when, who acted, the evidence's ids) and loses
        who it is about: ``phone`` and ``email`` become their ``contact_digest`` (the suppression list's key,
        so an opt-out can still be matched to its record), and ``words``, ``ip``, ``user_agent`` and
        ``page_url`` are blanked. Idempotent: a digest is not hashed again.
        """
        changed = 0
        for phone, email in set(self.values_list("phone", "email")):
            rows = self.filter(phone=phone, email=email)
            # The plain QuerySet.update: this queryset's own update() refuses every other change.
            changed += models.QuerySet.update(
                rows,
                phone=_anonymised(phone),
                email=_anonymised(email),
                words="",
                ip=None,
                user_agent="",
                page_url="",
            )
        return changed


def _anonymised(address: str) -> str:
    return address if not address or DIGEST.match(address) else contact_digest(address)
