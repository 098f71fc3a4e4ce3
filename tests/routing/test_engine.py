"""The engine and the condition language are pure: no database."""

import random
import re

import pytest

from leads.conditions import LeadFacts, compile_conditions, format_lines, parse_lines, validate_conditions
from routing.engine import RuleSpec, choose_rule, rule_matches


def cond(field, op, value=None, match="all"):
    return {"match": match, "conditions": [{"field": field, "op": op, "value": value}]}


FACTS = LeadFacts(
    channel="sms",
    source="google-ads",
    message="Need my ROOF replaced before winter",
    score=72,
    intent="quote_request",
    budget=12000.0,
    postal_code="78701",
    region="US-TX",
    country="US",
    email_domain="acme.com",
    payload={"product": "Solar", "fields": {"roof_type": "shingle"}, "units": "12"},
)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (cond("channel", "equals", "SMS"), True),
        (cond("channel", "not_equals", "sms"), False),
        (cond("source", "contains", "google"), True),
        (cond("country", "in", ["CA", "US"]), True),
        (cond("country", "not_in", ["CA", "US"]), False),
        (cond("region", "in", ["us-tx", "US-OK"]), True),
        (cond("score", "gt", 70), True),
        (cond("score", "lt", 70), False),
        (cond("budget", "between", [5000, 20000]), True),
        (cond("budget", "between", [12001, 20000]), False),
        (cond("budget", "is_empty"), False),
        (cond("company", "is_empty"), True),
        (cond("company", "is_not_empty"), False),
        (cond("company", "equals", "acme"), False),
        (cond("company", "not_equals", "acme"), True),
        (cond("message", "regex", r"\broof\b"), True),
        (cond("message", "regex", r"^gutter"), False),
        (cond("postal_code", "regex", r"^78[67]"), True),
        (cond("payload.product", "equals", "solar"), True),
        (cond("payload.fields.roof_type", "in", ["shingle", "tile"]), True),
        (cond("payload.units", "gt", 10), True),
        (cond("payload.missing.deeper", "is_empty"), True),
        (cond("payload.fields", "equals", "x"), False),
        ({"match": "all", "conditions": []}, True),
        (
            {
                "match": "any",
                "conditions": [
                    {"field": "channel", "op": "equals", "value": "email"},
                    {"field": "intent", "op": "equals", "value": "quote_request"},
                ],
            },
            True,
        ),
        (
            {
                "match": "all",
                "conditions": [
                    {"field": "channel", "op": "equals", "value": "email"},
                    {"field": "intent", "op": "equals", "value": "quote_request"},
                ],
            },
            False,
        ),
    ],
)
def test_conditions(conditions, expected):
    validate_conditions(conditions)
    assert rule_matches(conditions, FACTS) is expected


def test_first_matching_rule_in_order_wins_and_says_why():
    rules = [
        RuleSpec(1, "Email only", cond("channel", "equals", "email")),
        RuleSpec(2, "Hot SMS", cond("score", "gt", 50)),
        RuleSpec(3, "Catch-all"),
    ]
    match = choose_rule(FACTS, rules)
    assert (match.rule.id, match.tried) == (2, 2)
    assert match.explanation == "rule 'Hot SMS' matched (score > 50)"


def test_broken_rule_is_skipped_with_reason():
    rules = [RuleSpec(1, "Broken", cond("colour", "equals", "red")), RuleSpec(2, "Catch-all")]
    match = choose_rule(FACTS, rules)
    assert match.rule.id == 2
    assert "rule 'Broken' skipped: Condition 1: unknown field 'colour'" in match.explanation
    assert len(match.skipped) == 1 and match.skipped[0].startswith("rule 'Broken' skipped")


def test_no_match_is_explained():
    match = choose_rule(FACTS, [RuleSpec(1, "Email", cond("channel", "equals", "email"))])
    assert match.rule is None and "none of 1 active rules matched" in match.explanation


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ([], "must be an object"),
        ({"match": "some"}, "'match' must be"),
        ({"conditions": {}}, "must be a list"),
        (cond("channel", "like", "x"), "unknown operator 'like'"),
        (cond("country", "in", "US"), "needs a non-empty list"),
        (cond("country", "in", []), "needs a non-empty list"),
        (cond("score", "gt", "high"), "needs a number"),
        (cond("budget", "between", [20000, 5000]), "smaller number first"),
        (cond("budget", "between", [1]), "needs two numbers"),
        (cond("message", "regex", "(roof"), "does not compile"),
        (cond("message", "regex", "a" * 201), "longer than 200"),
        (cond("channel", "equals", None), "needs a single value"),
        (cond("payload.", "equals", "x"), "unknown field 'payload.'"),
    ],
)
def test_invalid_conditions_say_why(conditions, message):
    with pytest.raises(ValueError, match=message):
        validate_conditions(conditions)


def test_readable_lines_round_trip():
    text = "\n".join(
        [
            "channel is sms",
            "score > 60",
            "budget between 5000 and 20000",
            "region in US-TX, US-OK",
            "message matches roof|gutter",
            "company is empty",
            "payload.product is not solar",
            "email_domain contains acme",
            "country not in CA, MX",
            "lead_type is not empty",
            "postal_code < 90000",
        ]
    )
    conditions = parse_lines(text, match="any")
    assert conditions["match"] == "any"
    assert conditions["conditions"][1] == {"field": "score", "op": "gt", "value": 60}
    assert conditions["conditions"][2] == {"field": "budget", "op": "between", "value": [5000, 20000]}
    assert conditions["conditions"][3] == {"field": "region", "op": "in", "value": ["US-TX", "US-OK"]}
    assert conditions["conditions"][5] == {"field": "company", "op": "is_empty"}
    assert format_lines(conditions) == text
    assert parse_lines(format_lines(conditions), match="any") == conditions


def test_symbols_and_operator_names_are_accepted():
    conditions = parse_lines("score>60\nchannel = sms\nintent != spam\nbudget gt 100\n# a comment\n\n")
    assert [c["op"] for c in conditions["conditions"]] == ["gt", "equals", "not_equals", "gt"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour is red", "Line 1 ('colour is red'): unknown field 'colour'"),
        ("channel is sms\nscore", "Line 2 ('score'): no operator"),
        ("score > lots", "Line 1 ('score > lots'): '>' needs a number"),
        ("message matches (roof", "does not compile"),
        ("budget between 9 and 1", "smaller number first"),
        ("region in", "needs a non-empty list"),
    ],
)
def test_bad_lines_name_the_line(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_lines(text)


def test_evaluation_never_raises_on_odd_facts():
    rng = random.Random(7)
    values = [None, "", "x", 0, -1, 3.5, float("nan"), True, [], {}, {"a": 1}, ["a"], "9" * 50, "ü"]
    ops = [
        ("equals", "x"),
        ("not_equals", "x"),
        ("in", ["x", "1"]),
        ("not_in", ["x"]),
        ("contains", "x"),
        ("regex", "x+"),
        ("gt", 1),
        ("lt", 1),
        ("between", [0, 5]),
        ("is_empty", None),
        ("is_not_empty", None),
    ]
    compiled = [compile_conditions(cond("payload.v", op, value)) for op, value in ops]
    # A number field compares with numbers only ('score is x' is refused when saved).
    numeric = [(op, 1 if op in ("equals", "not_equals") else value) for op, value in ops]
    compiled += [compile_conditions(cond("score", op, value)) for op, value in numeric]
    for _ in range(500):
        facts = LeadFacts(score=rng.choice(values), payload={"v": rng.choice(values)})
        for conditions in compiled:
            assert conditions.holds(facts) in (True, False)
