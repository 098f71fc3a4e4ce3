"""Pure rule matching: a lead's facts and the rules in priority order in, the matching rule out. No ORM, no I/O.

Rules are written in the condition language of :mod:`leads.conditions`, which approval gates share.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from leads.conditions import CompiledConditions, LeadFacts, compile_conditions, describe, empty_conditions


@dataclass(frozen=True)
class RuleSpec:
    id: int
    name: str
    conditions: dict = field(default_factory=empty_conditions)


@dataclass(frozen=True)
class RuleMatch:
    rule: RuleSpec | None
    explanation: str
    tried: int = 0
    skipped: tuple[str, ...] = ()


def rule_matches(conditions: dict, facts: LeadFacts) -> bool:
    return compile_conditions(conditions).holds(facts)


def choose_rule(
    facts: LeadFacts, rules: Sequence[RuleSpec], compiled: dict[int, CompiledConditions] | None = None
) -> RuleMatch:
    """The first rule (in the given order) whose conditions hold; a rule that can't be evaluated is skipped.

    ``compiled`` holds rules already checked (by id), so a cached rule set is not re-parsed per lead.
    """
    skipped = []
    for tried, rule in enumerate(rules, start=1):
        checked = compiled.get(rule.id) if compiled else None
        if checked is None:
            try:
                checked = compile_conditions(rule.conditions)
            except ValueError as exc:
                skipped.append(f"rule '{rule.name}' skipped: {exc}")
                continue
        if checked.holds(facts):
            described = describe(rule.conditions)
            explanation = "; ".join([*skipped, f"rule '{rule.name}' matched ({described})"])
            return RuleMatch(rule, explanation, tried, tuple(skipped))
    explanation = "; ".join([*skipped, f"none of {len(rules)} active rules matched"])
    return RuleMatch(None, explanation, len(rules), tuple(skipped))
