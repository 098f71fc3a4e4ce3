"""Which posted field is the name, the phone, the message: the names browsers' autofill and form builders use.

Browsers autofill by the HTML standard's autocomplete tokens (given-name, family-name, tel, email, street-address,
postal-code, country-name…), and builders post their own names: Contact Form 7 ``your-name``/``your-email``/
``your-message``, WPForms and HubSpot ``first_name``/``firstname``, Webflow ``Name``/``Email``. Names are compared
lowercased with every run of punctuation read as "_". A builder whose names carry only ids (Gravity Forms'
``input_1.3``, first name only in a Name field) is mapped per form by a manager (WebForm.field_map), which wins.
Every other field (a checkbox group of services, a budget, a subject) is kept in the payload and shown in the
message as "label: value, value", so the person's whole answer reaches qualification and the rep.
"""

import re
from dataclasses import dataclass, field

import pycountry

from leads.choices import FORM_FIELD_TARGETS as TARGETS
from leads.form_post import FormPost

MESSAGE_MAX = 20_000  # leads.api.CaptureInputSerializer's limit
ALIASES = {
    "name": "name full_name fullname your_name contact_name customer_name",
    "first_name": "first_name firstname fname given_name first",
    "last_name": "last_name lastname lname family_name surname last",
    "email": "email e_mail email_address emailaddress your_email mail",
    "phone": "phone tel tel_national telephone phone_number phonenumber mobile mobile_phone cell cell_phone your_phone "
    "your_tel",
    "company": "company company_name organization organisation business business_name your_company",
    "message": "message your_message comments comment details description enquiry inquiry notes how_can_we_help",
    "postal_code": "postal_code postalcode zip zipcode zip_code postcode post_code",
    "country": "country country_code country_name",
    "street_address": "street_address address address_line1 address_line2 address1 address2 street",
    "city": "city town address_level2",
    "region": "state province region address_level1",
}
TARGET_OF = {alias: target for target, names in ALIASES.items() for alias in names.split()}
# Kept in the payload but not shown in the message: consent evidence, tracking, and builders' own bookkeeping
# (Contact Form 7's _wpcf7*, Gravity Forms' gform_*/is_submit_N/state_N, captcha tokens).
HIDDEN = re.compile(
    r"^(_.*|consent(_text|_version|_channel)?|page_url|submission_id|utm_.*|gclid|fbclid|msclkid|"
    r"g_recaptcha_response|h_captcha_response|cf_turnstile_response|csrfmiddlewaretoken|gform_.*|is_submit_\d+|"
    r"state_\d+|submit|action|form_id)$"
)
# Our own keys in an event's payload; a posted field of the same name is kept as "<name> (posted)".
META_KEYS = ("suspected_spam", "form_post")


def field_key(name: str) -> str:
    """A posted field's name as aliases are compared: lowercase, each run of other characters one "_"."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@dataclass
class FormLead:
    """A form post read as a lead: the capture fields, the payload to store, and the hidden fields' values."""

    fields: dict[str, str]
    payload: dict
    hidden: dict[str, str] = field(default_factory=dict)


def _country_code(value: str) -> str:
    """ISO 3166 alpha-2 for a code or a country's name ("United States", "DEU"); "" when it names none."""
    value = value.strip()
    if len(value) == 2 and value.isalpha():
        return value.upper()
    try:
        return pycountry.countries.lookup(value).alpha_2 if value else ""
    except LookupError:
        return ""


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, round(n / 1024))} KB"


def form_lead(post: FormPost, *, field_map: dict[str, str] | None = None, honeypot: str = "") -> FormLead:
    """Map a post's fields onto a lead's (see the module's docstring); ``field_map`` is posted name -> target.

    Repeated values of a contact field keep the first that is not blank; message fields are joined.
    """
    field_map = field_map or {}
    found: dict[str, list[str]] = {t: [] for t in TARGETS}
    extras: list[str] = []
    hidden: dict[str, str] = {}
    for name, values in post.fields.items():
        key = field_key(name)
        target = field_map.get(name) or TARGET_OF.get(key)
        present = [v for v in values if v.strip()]
        if (honeypot and key == field_key(honeypot)) or (target is None and HIDDEN.match(key)):
            hidden[key] = values[0] if values else ""
        elif target in found:
            found[target] += present
        elif present:
            extras.append(f"{name}: {', '.join(v.strip() for v in present)}")
    first = {t: (found[t][0].strip() if found[t] else "") for t in TARGETS}
    name = first["name"] or " ".join(p for p in (first["first_name"], first["last_name"]) if p)
    country = _country_code(first["country"])
    if first["country"] and not country:
        extras.append(f"country: {first['country']}")
    address = ", ".join(v for t in ("street_address", "city", "region") for v in found[t])
    if address:
        extras.insert(0, f"address: {address}")
    extras += [f"attached (not kept): {f.name} ({f.content_type or 'file'}, {_size(f.size)})" for f in post.files]
    message = "\n".join(v.strip("\r\n") for v in found["message"])
    if extras:
        message = (message + "\n\n" if message else "") + "\n".join(extras)
        if len(message) > MESSAGE_MAX and len(message) - len("\n".join(extras)) <= MESSAGE_MAX:
            message = message[:MESSAGE_MAX]  # the person's own words fit: only the list of extra fields is cut
    fields = {
        "name": name,
        "email": first["email"],
        "phone": first["phone"],
        "company": first["company"],
        "message": message,
        "postal_code": first["postal_code"],
        "country": country,
    }
    payload = dict(post.original) if post.original is not None else {}
    if post.original is None:
        payload = {name: values[0] if len(values) == 1 else values for name, values in post.fields.items()}
    for key in META_KEYS:
        if key in payload:
            payload[f"{key} (posted)"] = payload.pop(key)
    payload["form_post"] = {
        "charset": post.charset,
        **(
            {"files": [{"field": f.field, "name": f.name, "type": f.content_type, "size": f.size} for f in post.files]}
            if post.files
            else {}
        ),
    }
    return FormLead(fields=fields, payload=payload, hidden=hidden)
