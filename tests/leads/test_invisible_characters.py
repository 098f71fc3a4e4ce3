"""Contact fields pasted from documents and phones carry invisible characters: they are stripped before a phone or
an email is validated and deduplicated, at every door; names and messages are kept as written."""

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.test import Client

from leads.models import InboundEvent, Lead
from leads.normalize import contact_text, normalize_email, normalize_phone

# Each kind a pasted value brings along, as copy and paste really carries it.
INVISIBLE = {
    "zero-width space U+200B": "\u200b",
    "BOM / zero-width no-break space U+FEFF": "\ufeff",
    "left-to-right mark U+200E": "\u200e",
    "right-to-left mark U+200F": "\u200f",
    "LTR embedding U+202A": "\u202a",
    "RTL embedding U+202B": "\u202b",
    "pop directional formatting U+202C": "\u202c",
    "LTR override U+202D": "\u202d",
    "RTL override U+202E": "\u202e",
    "LTR isolate U+2066": "\u2066",
    "RTL isolate U+2067": "\u2067",
    "first-strong isolate U+2068": "\u2068",
    "pop directional isolate U+2069": "\u2069",
    "variation selector-16 U+FE0F": "\ufe0f",
    "word joiner U+2060": "\u2060",
}
SPACES = {"no-break space U+00A0": "\u00a0", "narrow no-break space U+202F": "\u202f"}


def _dressed_phone(char: str) -> str:
    # Around the number (a copied table cell, a bidi-wrapped contact card) and between its groups.
    return f"{char}(512){char} 867{char}-0300{char}"


def _dressed_email(char: str) -> str:
    inside = "" if char in SPACES.values() else char  # a space inside an address is not an address
    return f"{char}Rosa.Diaz{inside}@Example.com{char}"


@pytest.mark.parametrize("char", [*INVISIBLE.values(), *SPACES.values()], ids=[*INVISIBLE, *SPACES])
def test_each_invisible_kind_is_stripped_from_a_phone_and_an_email(char):
    assert normalize_phone(_dressed_phone(char), region="US") == "+15128670300"
    assert normalize_email(_dressed_email(char)) == "rosa.diaz@example.com"


def test_without_stripping_these_would_not_be_read():
    """The fix is needed: phonenumbers refuses the bidi marks, the BOM and VS16; Django refuses them in an email."""
    for char in ("\ufeff", "\u200e", "\u202a", "\u2066", "\ufe0f"):
        with pytest.raises(phonenumbers.NumberParseException):
            phonenumbers.parse(f"512{char}867{char}0300", "US")
    for char in INVISIBLE.values():
        with pytest.raises(ValidationError):
            validate_email(f"rosa{char}@example.com")


def test_contact_text_keeps_visible_characters_and_plain_ascii_as_is():
    assert contact_text("  +1 512 867 0300 ") == "+1 512 867 0300"
    assert contact_text("zoë@exämple.de\u200b") == "zoë@exämple.de"
    assert contact_text("\u2066\u2069") == ""


@pytest.fixture
def post_api(api):
    def _post(**body):
        response = api.post("/api/v1/events/", {"channel": "form", "source": "website", **body}, format="json")
        assert response.status_code == 202, response.content
        return response.json()

    return _post


@pytest.mark.django_db
@pytest.mark.parametrize("char", [*INVISIBLE.values(), *SPACES.values()], ids=[*INVISIBLE, *SPACES])
def test_the_api_finds_the_same_lead_through_invisible_characters(demo, post_api, char):
    first = post_api(name="Rosa Diaz", phone="+15128670300", email="rosa.diaz@example.com", message="Roof")
    by_phone = post_api(phone=_dressed_phone(char), message="Any news?")
    by_email = post_api(email=_dressed_email(char), message="And by mail")
    assert by_phone["lead"] == by_email["lead"] == first["lead"]
    lead = Lead.objects.get()
    assert (lead.phone, lead.email, lead.contact_problems) == ("+15128670300", "rosa.diaz@example.com", {})
    # The raw value is kept (DRF trims the ends, as for any field).
    assert InboundEvent.objects.get(pk=by_phone["event"]).phone == _dressed_phone(char).strip()


@pytest.mark.django_db
def test_a_new_lead_is_stored_clean_and_its_name_and_message_as_written(demo, post_api):
    name, message = "Zoë \u200dO\u2019Brien 👩\u200d🔧", "Call me\u00a0after 5 \u2066please\u2069"
    answer = post_api(name=name, phone="\u202a+1 512 867 0301\u202c", email="\ufeffzoe@example.com", message=message)
    lead = Lead.objects.get(pk=answer["lead"])
    assert (lead.phone, lead.email, lead.name) == ("+15128670301", "zoe@example.com", name.strip())
    assert InboundEvent.objects.get(pk=answer["event"]).message == message


@pytest.mark.django_db
def test_a_web_form_post_dedupes_through_a_pasted_no_break_space_and_zero_width_space(demo):
    client = Client(REMOTE_ADDR="203.0.113.20")
    first = client.post("/capture/form/website-quote/", {"name": "Ravi", "phone": "512-867-0302", "message": "Hi"})
    again = client.post(
        "/capture/form/website-quote/",
        {"name": "Ravi", "phone": "512\u00a0867\u200b0302", "email": "ravi@example.com\u200b", "message": "Me again"},
    )
    assert first.status_code == again.status_code == 202
    assert first.json()["lead"] == again.json()["lead"]
    assert Lead.objects.get().email == "ravi@example.com"
