"""The engine is pure: no database."""

import pytest

from routing.engine import LeadFacts, RuleSpec, choose_rule, rule_matches, validate_conditions


def cond(field, op, value=None, match="all"):
    return {"match": match, "conditions": [{"field": field, "op": op, "value": value}]}


FACTS = LeadFacts(
    channel="sms", source="google-ads", score=72, intent="quote_request", postal_code="78701", country="US"
)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (cond("channel", "equals", "SMS"), True),
        (cond("channel", "not_equals", "sms"), False),
        (cond("source", "contains", "google"), True),
        (cond("country", "in", ["CA", "US"]), True),
        (cond("score", "gt", 70), True),
        (cond("score", "lt", 70), False),
        (cond("budget", "is_empty"), True),
        (cond("budget", "gt", 1000), False),
        (cond("company", "equals", "acme"), False),
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
    assert match.rule.id == 2
    assert match.explanation == "rule 'Hot SMS' matched (score gt 50)"


def test_broken_rule_is_skipped_with_reason():
    rules = [RuleSpec(1, "Broken", cond("colour", "equals", "red")), RuleSpec(2, "Catch-all")]
    match = choose_rule(FACTS, rules)
    assert match.rule.id == 2
    assert "rule 'Broken' skipped: Condition 1: unknown field 'colour'" in match.explanation


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
        (cond("country", "in", "US"), "needs a list"),
        (cond("score", "gt", "high"), "needs a number"),
    ],
)
def test_invalid_conditions_say_why(conditions, message):
    with pytest.raises(ValueError, match=message):
        validate_conditions(conditions)
