"""Property tests (hypothesis): the normalizers, the payload mapping and the condition language never raise
anything but their own refusal, on any input, and never accept what they should refuse."""

import re

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from integrations.adforms import FACEBOOK, country_code, facebook_reading
from integrations.fieldmap import field_map_errors, field_map_read
from leads import conditions as engine
from leads.normalize import contact_text, mask_phone, normalize_email, normalize_phone

# Every test here is pure (no database); enough examples to find edge cases, few enough for CI.
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@PROPERTY
@given(st.text(max_size=40), st.sampled_from(["US", "GB", "FR", "", "ZZ"]))
@example("\xad", "")  # a lone soft hyphen: invisible, so blank
@example("\ufeff\u200b ", "US")
def test_a_phone_is_e164_and_valid_or_refused_with_a_validation_error(raw, region):
    try:
        phone = normalize_phone(raw, region=region)
    except ValidationError as exc:
        assert "phone number" in exc.messages[0]
        return
    if phone:
        assert E164.match(phone), phone
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), "never accepts an invalid number"
        assert normalize_phone(phone, region=region) == phone, "normalizing twice changes nothing"
    else:
        # Blank once the invisible characters copy and paste carries are gone (a lone soft hyphen, a BOM).
        assert not contact_text(raw)


@PROPERTY
@given(st.from_regex(r"\+1(2[0-9]{2}|[3-9][0-9]{2})[2-9][0-9]{6}", fullmatch=True))
def test_a_valid_number_written_any_way_normalizes_to_the_same_e164(number):
    parsed = phonenumbers.parse(number)
    if not phonenumbers.is_valid_number(parsed):
        return
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert normalize_phone(national, region="US") == normalize_phone(f"  {number} ", region="US") == number
    masked = mask_phone(number)
    assert number[2:] not in masked and len(masked) < len(number)


@PROPERTY
@given(st.text(max_size=60) | st.emails())
@example("\xad")
def test_an_email_is_lower_cased_and_valid_or_refused(raw):
    try:
        email = normalize_email(raw)
    except ValidationError:
        return
    if email:
        assert email == email.strip().lower() and email.count("@") == 1
        assert normalize_email(email) == email
    else:
        assert not contact_text(raw)


@PROPERTY
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=5))
def test_a_field_map_is_refused_with_reasons_or_maps_a_contact(field_map):
    errors = field_map_errors(field_map)
    assert isinstance(errors, list) and all(isinstance(e, str) and e for e in errors)
    if not errors:
        assert {"email", "phone"} & set(field_map)


@PROPERTY
@given(
    json_values,
    st.sampled_from(["$.email", "$.customer.phone", "$.answers[0].value", "$..name", "$[*].id"]),
    st.sampled_from(["phone", "message"]),
)
def test_a_mapped_path_reads_text_from_any_json_or_names_the_field_and_path(data, path, name):
    try:
        read = field_map_read({name: path}, data)
    except ValueError as exc:
        assert name != "message" and f"'{name}' ({path}) finds an object" in str(exc)
        return
    assert isinstance(read[name], str)


facebook_keys = [*FACEBOOK.email, *FACEBOOK.phone, "full_name", "first_name", "last_name", "country", "zip_code"]
field_data = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from([*facebook_keys, "city", "what_do_you_need?"]),
            "values": st.lists(
                st.sampled_from(["", " ", "US", "Ana", "a@example.com", "+15128670500", "x"]), max_size=3
            ),
        }
    ),
    max_size=8,
)


@PROPERTY
@given(field_data)
def test_a_facebook_form_loses_no_answer(field_data):
    reading = facebook_reading(field_data)
    kept = [*reading.fields().values(), *(v for a in reading.answers for v in a.values)]
    for question in field_data:
        for value in filter(str.strip, question["values"]):
            # Every value is a field, part of the name, the country (as its code), or a value of an answer.
            assert any(value.strip() in k for k in kept) or country_code(value) == reading.country, (value, reading)


conditions = st.fixed_dictionaries(
    {
        "match": st.sampled_from(["all", "any", "some"]),
        "conditions": st.lists(
            st.fixed_dictionaries(
                {
                    "field": st.sampled_from([*engine.FIELDS, "payload.x", "nope", ""]),
                    "op": st.sampled_from([*engine.OPERATORS, "near", ""]),
                },
                optional={"value": json_values},
            ),
            max_size=4,
        ),
    }
)
facts = st.builds(
    engine.LeadFacts,
    channel=st.text(max_size=10),
    message=st.text(max_size=40),
    score=st.none() | st.integers(min_value=0, max_value=100),
    budget=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    postal_code=st.text(max_size=8),
    payload=st.dictionaries(st.text(max_size=5), json_values, max_size=3),
)


@PROPERTY
@given(conditions | json_values, facts)
def test_conditions_compile_or_are_refused_and_compiled_ones_always_answer(raw, lead):
    try:
        compiled = engine.compile_conditions(raw)
    except ValueError as exc:
        assert str(exc)
        return
    assert raw.get("match", "all") in ("all", "any"), "an unknown match is refused"
    for cond in raw.get("conditions", []):
        assert cond["field"] in engine.FIELDS or cond["field"].startswith("payload."), "unknown fields are refused"
        assert cond["op"] in engine.OPERATORS, "unknown operators are refused"
    assert compiled.holds(lead) in (True, False)


@PROPERTY
@given(st.text(max_size=120))
def test_rule_lines_parse_to_conditions_that_round_trip_or_name_the_bad_line(text):
    try:
        parsed = engine.parse_lines(text)
    except ValueError as exc:
        assert str(exc).startswith(("Line ", "Condition ", "'match'", "Conditions"))
        return
    assert engine.parse_lines(engine.format_lines(parsed)) == parsed, "what is shown parses back to the same rule"


@pytest.mark.parametrize("text", ["score > 50\nscore is between 10 and", "budget > lots", "region ~ [", "nope is x"])
def test_known_bad_lines_are_refused(text):
    with pytest.raises(ValueError, match="Line"):
        engine.parse_lines(text)
