"""A person corrects a lead's phone or email: the fix for what capture flagged as not understood."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from config.exceptions import Forbidden
from leads.lock_objects import lead_lock
from leads.models import Lead
from leads.normalize import normalize_email, normalize_phone, phone_regions

CHANGE_PERMISSION = "leads.change_lead"


def _normalized(lead: Lead, name: str, raw: str) -> str:
    try:
        if name == "phone":
            regions = phone_regions(country=lead.country, email=lead.email, default=settings.DEFAULT_PHONE_REGION)
            return normalize_phone(raw, regions=regions)
        return normalize_email(raw)
    except ValidationError as exc:
        kind = "a phone number" if name == "phone" else "an email address"
        raise ValidationError({name: [f"{' '.join(exc.messages)} Give {kind} that can reach the person."]}) from None


@transaction.atomic
def lead_contact_fix(*, lead_id: int, user, phone: str = "", email: str = "") -> Lead:
    """Set the lead's phone and/or email to the values a person typed (blank: that field is left as it is),
    validated and normalized as capture does; the field's flag in ``contact_problems`` is cleared, and the
    change is kept in the lead's history with who made it and what was flagged.

    Raises Forbidden without the ``leads.change_lead`` permission; ValidationError naming the field when a value
    is not a phone number or an address, belongs to another lead (each address is one lead's), or when both are
    blank. Lead.DoesNotExist for an unknown ``lead_id``.
    """
    if not user.has_perm(CHANGE_PERMISSION):
        raise Forbidden("Only a manager (who may change leads) can correct a lead's phone or email.")
    lead = lead_lock(lead_id)
    wanted = {name: raw for name, raw in (("phone", phone), ("email", email)) if (raw or "").strip()}
    if not wanted:
        raise ValidationError({"phone": ["Type the corrected phone number or email address."]})
    values = {name: _normalized(lead, name, raw) for name, raw in wanted.items()}
    for name, value in values.items():
        holder = Lead.objects.filter(**{name: value}).exclude(pk=lead.pk).first()
        if holder is not None:
            raise ValidationError({name: [f"{value} is already the {name} of lead {holder.pk} ({holder})."]})
    problems = dict(lead.contact_problems or {})
    flagged = [f"{name} {problems[name].get('raw', '')!r}" for name in values if name in problems]
    changed = [name for name, value in values.items() if getattr(lead, name) != value]
    for name, value in values.items():
        setattr(lead, name, value)
        problems.pop(name, None)
    if problems != (lead.contact_problems or {}):
        lead.contact_problems = problems
        changed.append("contact_problems")
    if "email" in changed and lead.email_undeliverable:
        # A corrected address is a new mailbox: the old one's bounce says nothing about it (as the admin does).
        lead.email_undeliverable = ""
        changed.append("email_undeliverable")
    if changed:
        lead._history_user = user
        lead._change_reason = (
            f"corrected by {user}" + (f"; was not understood: {', '.join(flagged)}" if flagged else "")
        )[:100]
        lead.save(update_fields=[*changed, "updated_at"])
    return lead
