"""Ad lead forms' answers read as a lead: Facebook Lead Ads' ``field_data`` and Google Ads' ``user_column_data``.

A form asks standard questions (name, email, phone, address, company, job…) and the advertiser's own. The readers
below take the lead's fields from the standard answers, in each platform's order of preference (a B2B form may ask
only for a work email or a work phone), and keep every other answer, with all of its values in the form's order,
as a ``FormAnswer``: one readable line of the event's message ("Label: a, b") and one entry of its payload.

Shapes, as the platforms document them:
- Facebook, the Graph API's Lead node (developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving):
  ``field_data = [{"name": "<question key>", "values": ["…", …]}]``. Standard questions have fixed keys
  (full_name, first_name, last_name, email, phone_number, work_email, work_phone_number, street_address, city,
  state, province, zip_code, post_code, country, date_of_birth, gender, marital_status, company_name, job_title…);
  a custom question's key is the one the advertiser gave it; a multiple-choice question may carry several values.
- Google, the lead form webhook (developers.google.com/google-ads/webhook/docs/implementation):
  ``user_column_data = [{"column_id": "FULL_NAME", "column_name": "Full Name", "string_value": "…"}]``, one value a
  column. Standard column ids are LeadFormFieldUserInputType's names (FULL_NAME or FIRST_NAME + LAST_NAME, EMAIL,
  PHONE_NUMBER, WORK_EMAIL, WORK_PHONE, COMPANY_NAME, JOB_TITLE, STREET_ADDRESS, CITY, REGION, POSTAL_CODE,
  COUNTRY, the qualifying questions such as VEHICLE_MODEL); ``column_name`` "might not always be populated".
"""

from dataclasses import dataclass, replace

import pycountry

# English names people type that ISO 3166's English short names do not match: "UK" is the code ISO reserves for
# GB at the United Kingdom's request; ISO renamed Turkey "Türkiye" in 2022; Russia is "Russian Federation".
COUNTRY_ALIASES = {"UK": "GB", "GREAT BRITAIN": "GB", "RUSSIA": "RU", "TURKEY": "TR", "IVORY COAST": "CI"}


@dataclass(frozen=True)
class FormAnswer:
    """One question of a form as answered: its key at the platform, a label a person reads, every value given."""

    key: str
    label: str
    values: tuple[str, ...]

    def line(self) -> str:
        return f"{self.label}: {', '.join(self.values)}"

    def as_json(self) -> dict:
        return {"key": self.key, "label": self.label, "values": list(self.values)}


@dataclass(frozen=True)
class Roles:
    """Which standard keys give each of the lead's fields, most preferred first."""

    full_name: str
    first_name: str
    last_name: str
    email: tuple[str, ...]
    phone: tuple[str, ...]
    company: tuple[str, ...]
    postal_code: tuple[str, ...]
    country: str


FACEBOOK = Roles(
    full_name="full_name",
    first_name="first_name",
    last_name="last_name",
    email=("email", "work_email"),
    phone=("phone_number", "work_phone_number", "user_provided_phone_number"),
    company=("company_name",),
    postal_code=("zip_code", "post_code"),
    country="country",
)
GOOGLE = Roles(
    full_name="FULL_NAME",
    first_name="FIRST_NAME",
    last_name="LAST_NAME",
    email=("EMAIL", "WORK_EMAIL"),
    phone=("PHONE_NUMBER", "WORK_PHONE"),
    company=("COMPANY_NAME",),
    postal_code=("POSTAL_CODE",),
    country="COUNTRY",
)
# Identity documents and birth dates a form may ask (Google's GOVERNMENT_ISSUED_ID_* columns, Facebook's national
# id questions such as cpf_brazil or dni_argentina): kept in the stored payload for the business, left out of the
# message, so they never reach a model's prompt, a draft or a rep's queue.
SENSITIVE_KEYS = ("GOVERNMENT_ISSUED_ID", "DATE_OF_BIRTH")
NATIONAL_ID_SUFFIXES = ("_ARGENTINA", "_BRAZIL", "_CHILE", "_COLOMBIA", "_ECUADOR", "_GUATEMALA", "_MEXICO", "_PERU")


def sensitive(key: str) -> bool:
    """Whether an answer is an identity document or a birth date (see SENSITIVE_KEYS)."""
    key = key.upper()
    return key.startswith(SENSITIVE_KEYS) or key.endswith(NATIONAL_ID_SUFFIXES)


# Google's sample payload names two columns otherwise than their ids; a column without column_id is read by name.
GOOGLE_NAMES = {"USER_EMAIL": "EMAIL", "USER_PHONE": "PHONE_NUMBER"}


@dataclass(frozen=True)
class FormReading:
    """A form's answers as a lead: its fields, and every other answer (not one of the fields), in form order."""

    name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    postal_code: str = ""
    country: str = ""  # ISO 3166-1 alpha-2, or '' when the answer is not a country we can name
    answers: tuple[FormAnswer, ...] = ()

    def fields(self) -> dict[str, str]:
        """The CaptureEvent fields: name, email, phone, company, postal_code, country and the message."""
        names = ("name", "email", "phone", "company", "postal_code", "country")
        lines = [a.line() for a in self.answers if not sensitive(a.key)]
        return {**{n: getattr(self, n) for n in names}, "message": "\n".join(lines)}

    def answers_json(self) -> list[dict]:
        return [a.as_json() | ({"sensitive": True} if sensitive(a.key) else {}) for a in self.answers]


def country_code(answer: str) -> str:
    """The ISO 3166-1 alpha-2 code of a form's country answer, or '' when it names no country we know.

    Accepts a code ("US", "usa", "840") or an English name ("United States", "United Kingdom", "UK"), through
    pycountry's ISO 3166 tables and the few aliases above. A name in another language gives '' (the answer then
    stays readable in the message).
    """
    text = " ".join(answer.split())
    if not text:
        return ""
    if alias := COUNTRY_ALIASES.get(text.upper()):
        return alias
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return ""


def label_from_key(key: str) -> str:
    """A label a person reads for a question key: "what_is_your_budget?" -> "What is your budget?"; "JOB_TITLE" ->
    "Job title"."""
    words = " ".join(key.replace("_", " ").split())
    if words.isupper():
        words = words.lower()
    return words[:1].upper() + words[1:] if words else "Answer"


def _values(raw) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    return tuple(text for text in (str(v).strip() for v in items if v is not None) if text)


def facebook_reading(field_data) -> FormReading:
    """A Graph API lead's ``field_data`` as a lead. Raises ValueError naming an entry that is not a question."""
    if not isinstance(field_data, list):
        raise ValueError(f"field_data is {type(field_data).__name__}, not a list of questions")
    answers = []
    for entry in field_data:
        if not isinstance(entry, dict) or not str(entry.get("name") or "").strip():
            raise ValueError(f"field_data entry {entry!r} has no question name")
        key = str(entry["name"]).strip()
        answers.append(FormAnswer(key=key, label=label_from_key(key), values=_values(entry.get("values") or [])))
    return _reading(answers, FACEBOOK)


def google_reading(user_column_data) -> FormReading:
    """A Google lead form webhook's ``user_column_data`` as a lead. Raises ValueError naming a bad column."""
    if not isinstance(user_column_data, list):
        raise ValueError(f"user_column_data is {type(user_column_data).__name__}, not a list of columns")
    answers = []
    for column in user_column_data:
        if not isinstance(column, dict):
            raise ValueError(f"user_column_data entry {column!r} is not a column")
        name = str(column.get("column_name") or "").strip()
        key = str(column.get("column_id") or "").strip().upper()
        if not key:
            key = "_".join(name.upper().split())
            key = GOOGLE_NAMES.get(key, key)
        if not key:
            raise ValueError(f"user_column_data entry {column!r} has neither column_id nor column_name")
        values = _values(column.get("string_value"))
        answers.append(FormAnswer(key=key, label=name or label_from_key(key), values=values))
    return _reading(answers, GOOGLE)


def _reading(answers: list[FormAnswer], roles: Roles) -> FormReading:
    used: set[int] = set()  # positions in ``answers`` that became one of the lead's fields

    def first(*keys: str) -> str:
        for key in keys:
            for i, answer in enumerate(answers):
                if answer.key == key and answer.values and i not in used:
                    used.add(i)
                    return answer.values[0]
        return ""

    # A form asks the full name or first and last (Google refuses FULL_NAME beside FIRST_NAME or LAST_NAME); if one
    # has both, the full name wins and the parts stay readable with the other answers.
    name = first(roles.full_name) or " ".join(p for p in (first(roles.first_name), first(roles.last_name)) if p)
    reading = {role: first(*getattr(roles, role)) for role in ("email", "phone", "company", "postal_code")}
    country = ""
    for i, answer in enumerate(answers):
        if answer.key == roles.country and answer.values and (country := country_code(answer.values[0])):
            used.add(i)
            break
    # A field takes an answer's first value; any further value (a form never asks two emails, but nothing is
    # dropped if one comes) stays readable with the other answers.
    rest = (replace(a, values=a.values[1:]) if i in used else a for i, a in enumerate(answers))
    return FormReading(name=name, country=country, answers=tuple(a for a in rest if a.values), **reading)
