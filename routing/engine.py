"""Pure rule matching: facts and rules in, a decision out. No ORM, no I/O."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

FIELDS = ("channel", "source", "score", "intent", "budget", "postal_code", "country", "company", "email_domain")
OPERATORS = ("equals", "not_equals", "in", "contains", "gt", "lt", "is_empty")


def empty_conditions() -> dict:
    return {"match": "all", "conditions": []}


@dataclass(frozen=True)
class LeadFacts:
    channel: str = ""
    source: str = ""
    score: int | None = None
    intent: str = ""
    budget: float | None = None
    postal_code: str = ""
    country: str = ""
    company: str = ""
    email_domain: str = ""


@dataclass(frozen=True)
class RuleSpec:
    id: int
    name: str
    conditions: dict = field(default_factory=empty_conditions)


@dataclass(frozen=True)
class RuleMatch:
    rule: RuleSpec | None
    explanation: str


def validate_conditions(conditions: Any) -> None:
    """Raise ValueError saying what is wrong with a rule's conditions."""
    if not isinstance(conditions, dict):
        raise ValueError("Conditions must be an object with 'match' and 'conditions'.")
    if conditions.get("match", "all") not in ("all", "any"):
        raise ValueError("'match' must be 'all' or 'any'.")
    items = conditions.get("conditions", [])
    if not isinstance(items, list):
        raise ValueError("'conditions' must be a list.")
    for i, cond in enumerate(items, start=1):
        if not isinstance(cond, dict):
            raise ValueError(f"Condition {i} must be an object with field, op and value.")
        if cond.get("field") not in FIELDS:
            raise ValueError(f"Condition {i}: unknown field {cond.get('field')!r}; use one of {', '.join(FIELDS)}.")
        op = cond.get("op")
        if op not in OPERATORS:
            raise ValueError(f"Condition {i}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}.")
        value = cond.get("value")
        if op == "in" and not isinstance(value, list):
            raise ValueError(f"Condition {i}: 'in' needs a list value.")
        if op in ("gt", "lt") and not isinstance(value, int | float):
            raise ValueError(f"Condition {i}: '{op}' needs a number value.")


def _holds(cond: dict, facts: LeadFacts) -> bool:
    actual = getattr(facts, cond["field"])
    op, value = cond["op"], cond.get("value")
    if op == "is_empty":
        return actual in (None, "")
    if actual in (None, ""):
        return op == "not_equals"
    if op in ("gt", "lt"):
        if not isinstance(actual, int | float):
            return False
        return actual > value if op == "gt" else actual < value
    text = str(actual).lower()
    if op == "equals":
        return text == str(value).lower()
    if op == "not_equals":
        return text != str(value).lower()
    if op == "in":
        return text in {str(v).lower() for v in value}
    return str(value).lower() in text  # contains


def rule_matches(conditions: dict, facts: LeadFacts) -> bool:
    items = conditions.get("conditions", [])
    if not items:
        return True
    combine = any if conditions.get("match", "all") == "any" else all
    return combine(_holds(c, facts) for c in items)


def choose_rule(facts: LeadFacts, rules: Sequence[RuleSpec]) -> RuleMatch:
    """The first rule (in the given order) whose conditions hold; a rule that can't be evaluated is skipped."""
    skipped = []
    for rule in rules:
        try:
            validate_conditions(rule.conditions)
        except ValueError as exc:
            skipped.append(f"rule '{rule.name}' skipped: {exc}")
            continue
        if rule_matches(rule.conditions, facts):
            described = describe(rule.conditions)
            return RuleMatch(rule, "; ".join([*skipped, f"rule '{rule.name}' matched ({described})"]))
    return RuleMatch(None, "; ".join([*skipped, f"none of {len(rules)} active rules matched"]))


def describe(conditions: dict) -> str:
    items = conditions.get("conditions", [])
    if not items:
        return "matches every lead"
    joiner = " or " if conditions.get("match") == "any" else " and "
    return joiner.join(f"{c['field']} {c['op'].replace('_', ' ')} {c.get('value', '')}".strip() for c in items)
