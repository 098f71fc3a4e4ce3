"""The condition language of routing rules and approval gates: readable lines in, predicates out. Pure.

Conditions are stored as JSON (``{"match": "all"|"any", "conditions": [{"field", "op", "value"}]}``)
and edited as readable lines (``score > 60``, ``region in US-TX, US-OK``); :func:`parse_lines` and
:func:`format_lines` convert between the two, and :func:`compile_conditions` checks conditions once so
that testing a lead (or an action, for a gate) is only comparisons. No ORM, no I/O.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

FIELDS = (
    "channel",
    "source",
    "message",
    "score",
    "intent",
    "urgency",
    "budget",
    "postal_code",
    "region",
    "country",
    "company",
    "email_domain",
    "language",
    "product_line",
    "lead_type",
)
NUMERIC_FIELDS = frozenset({"score", "budget"})
PAYLOAD_PREFIX = "payload."
OPERATORS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "regex",
    "gt",
    "lt",
    "between",
    "is_empty",
    "is_not_empty",
)
# How each operator reads in the admin, and the words accepted when parsing (longest first).
OPERATOR_WORDS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "in",
    "not_in": "not in",
    "contains": "contains",
    "regex": "matches",
    "gt": ">",
    "lt": "<",
    "between": "between",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}
_PARSE_WORDS = sorted(
    [(word, op) for op, word in OPERATOR_WORDS.items()]
    + [(op, op) for op in OPERATORS]
    + [("=", "equals"), ("==", "equals"), ("!=", "not_equals"), ("regex", "regex")],
    key=lambda pair: -len(pair[0]),
)
MAX_REGEX_LENGTH = 200
_FIELD_AT_START = re.compile(r"^([\w.]*)\s*(.*)$")


def empty_conditions() -> dict:
    return {"match": "all", "conditions": []}


@dataclass(frozen=True)
class LeadFacts:
    """What rules can test about a lead; ``payload`` holds the event's custom fields."""

    channel: str = ""
    source: str = ""
    message: str = ""
    score: int | None = None
    intent: str = ""
    urgency: str = ""
    budget: float | None = None
    postal_code: str = ""
    region: str = ""
    country: str = ""
    company: str = ""
    email_domain: str = ""
    language: str = ""
    product_line: str = ""
    lead_type: str = ""
    payload: dict = field(default_factory=dict)

    def get(self, name: str) -> Any:
        if name.startswith(PAYLOAD_PREFIX):
            value: Any = self.payload
            for part in name[len(PAYLOAD_PREFIX) :].split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return value
        return getattr(self, name)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        return None


def _check(i: int, cond: Any, fields: Sequence[str] = FIELDS) -> tuple[str, str, Any]:
    """The (field, op, value) of one stored condition, or ValueError naming what is wrong."""
    if not isinstance(cond, dict):
        raise ValueError(f"Condition {i} must be an object with field, op and value.")
    name, op, value = cond.get("field"), cond.get("op"), cond.get("value")
    if not isinstance(name, str) or not (
        name in fields or (name.startswith(PAYLOAD_PREFIX) and len(name) > len(PAYLOAD_PREFIX))
    ):
        raise ValueError(
            f"Condition {i}: unknown field {name!r}; "
            f"use one of {', '.join(fields)} or payload.<key> for a custom field."
        )
    if op not in OPERATORS:
        raise ValueError(f"Condition {i}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}.")
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"Condition {i}: '{op}' needs a non-empty list of values.")
    elif op in ("gt", "lt"):
        if _number(value) is None:
            raise ValueError(f"Condition {i}: '{OPERATOR_WORDS[op]}' needs a number, not {value!r}.")
    elif op == "between":
        bounds = [_number(v) for v in value] if isinstance(value, list) and len(value) == 2 else [None]
        if None in bounds:
            raise ValueError(f"Condition {i}: 'between' needs two numbers, like [5000, 20000].")
        if bounds[0] > bounds[1]:
            low, high = bounds
            raise ValueError(f"Condition {i}: 'between' needs the smaller number first ({low:g} > {high:g}).")
    elif op == "regex":
        if not isinstance(value, str) or not value:
            raise ValueError(f"Condition {i}: 'matches' needs a regular expression.")
        if len(value) > MAX_REGEX_LENGTH:
            raise ValueError(f"Condition {i}: the regular expression is longer than {MAX_REGEX_LENGTH} characters.")
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"Condition {i}: the regular expression {value!r} does not compile: {exc}.") from None
    elif op in ("equals", "not_equals", "contains") and (value is None or isinstance(value, dict | list)):
        raise ValueError(f"Condition {i}: '{OPERATOR_WORDS[op]}' needs a single value.")
    elif op in ("equals", "not_equals") and name in NUMERIC_FIELDS and _number(value) is None:
        # 'score is high' would never hold: a number field compares with numbers only.
        raise ValueError(f"Condition {i}: {name} is a number; '{OPERATOR_WORDS[op]}' needs a number, not {value!r}.")
    return name, op, value


class Facts(Protocol):
    """What conditions are evaluated against: lead facts for rules, an action's facts for policy gates."""

    def get(self, name: str) -> Any: ...


Predicate = Callable[[Facts], bool]


def _empty(actual: Any) -> bool:
    return actual is None or (isinstance(actual, str | list | dict) and not actual)


def _predicate(name: str, op: str, value: Any) -> Predicate:
    """One condition as a function of the facts; never raises, whatever the facts hold."""
    if op == "is_empty":
        return lambda facts: _empty(facts.get(name))
    if op == "is_not_empty":
        return lambda facts: not _empty(facts.get(name))
    if op in ("gt", "lt", "between"):
        low, high = (_number(v) for v in value) if op == "between" else (_number(value), _number(value))

        def numeric(facts: Facts) -> bool:
            actual = _number(facts.get(name))
            if actual is None:
                return False
            if op == "gt":
                return actual > low
            if op == "lt":
                return actual < high
            return low <= actual <= high

        return numeric
    if op == "regex":
        pattern = re.compile(value, re.IGNORECASE)
        return lambda facts: not _empty(facts.get(name)) and pattern.search(str(facts.get(name))) is not None

    def text(actual: Any) -> str:
        if isinstance(actual, float) and actual.is_integer():
            actual = int(actual)
        return str(actual).strip().lower()

    if op in ("in", "not_in"):
        options = frozenset(text(v) for v in value)
        if op == "in":
            return lambda facts: not _empty(facts.get(name)) and text(facts.get(name)) in options
        return lambda facts: _empty(facts.get(name)) or text(facts.get(name)) not in options
    wanted = text(value)
    if op == "equals":
        return lambda facts: not _empty(facts.get(name)) and text(facts.get(name)) == wanted
    if op == "not_equals":
        return lambda facts: _empty(facts.get(name)) or text(facts.get(name)) != wanted
    return lambda facts: not _empty(facts.get(name)) and wanted in text(facts.get(name))  # contains


@dataclass(frozen=True)
class CompiledConditions:
    match: str
    predicates: tuple[Predicate, ...]

    def holds(self, facts: Facts) -> bool:
        if not self.predicates:
            return True
        combine = any if self.match == "any" else all
        return combine(p(facts) for p in self.predicates)


def compile_conditions(conditions: Any, fields: Sequence[str] = FIELDS) -> CompiledConditions:
    """Check conditions over ``fields`` and turn them into predicates; ValueError says what is wrong."""
    if not isinstance(conditions, dict):
        raise ValueError("Conditions must be an object with 'match' and 'conditions'.")
    match = conditions.get("match", "all")
    if match not in ("all", "any"):
        raise ValueError("'match' must be 'all' or 'any'.")
    items = conditions.get("conditions", [])
    if not isinstance(items, list):
        raise ValueError("'conditions' must be a list.")
    return CompiledConditions(match, tuple(_predicate(*_check(i, c, fields)) for i, c in enumerate(items, start=1)))


def validate_conditions(conditions: Any, fields: Sequence[str] = FIELDS) -> None:
    """Raise ValueError saying what is wrong with a rule's conditions."""
    compile_conditions(conditions, fields)


def _format_value(op: str, value: Any) -> str:
    if op in ("is_empty", "is_not_empty"):
        return ""
    if op in ("in", "not_in") and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if op == "between" and isinstance(value, list) and len(value) == 2:
        return f"{value[0]} and {value[1]}"
    return str(value)


def format_condition(cond: dict) -> str:
    op = cond.get("op", "")
    return f"{cond.get('field', '')} {OPERATOR_WORDS.get(op, op)} {_format_value(op, cond.get('value'))}".strip()


def describe(conditions: dict) -> str:
    items = conditions.get("conditions", [])
    if not items:
        return "matches every lead"
    joiner = " or " if conditions.get("match") == "any" else " and "
    return joiner.join(format_condition(c) for c in items)


def format_lines(conditions: dict) -> str:
    """The conditions as the readable lines the admin shows, one per line."""
    return "\n".join(format_condition(c) for c in conditions.get("conditions", []))


def _parse_value(op: str, raw: str) -> Any:
    raw = raw.strip()
    if op in ("is_empty", "is_not_empty"):
        return None
    if op in ("in", "not_in"):
        return [part.strip().strip("'\"") for part in raw.split(",") if part.strip()]
    if op == "between":
        parts = re.split(r"\s+and\s+|\s*,\s*|\s+", raw, maxsplit=1)
        return [_as_number(p) for p in parts] if len(parts) == 2 else raw
    if op in ("gt", "lt"):
        return _as_number(raw)
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return raw


def _as_number(raw: str) -> Any:
    number = _number(raw)
    if number is None:
        return raw.strip()
    return int(number) if number.is_integer() else number


def parse_lines(text: str, *, match: str = "all", fields: Sequence[str] = FIELDS) -> dict:
    """Readable lines (``field operator value``) to stored conditions; ValueError names the bad line."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, rest = _FIELD_AT_START.match(line).groups()
        for word, op in _PARSE_WORDS:
            lowered = rest.lower()
            if lowered == word or lowered.startswith(word + " ") or (not word.isalpha() and rest.startswith(word)):
                value = _parse_value(op, rest[len(word) :])
                break
        else:
            words = ", ".join(OPERATOR_WORDS.values())
            raise ValueError(f"Line {number} ({line!r}): no operator after the field; use one of: {words}.")
        cond = {"field": name, "op": op}
        if value is not None:
            cond["value"] = value
        try:
            _check(number, cond, fields)
        except ValueError as exc:
            raise ValueError(str(exc).replace(f"Condition {number}:", f"Line {number} ({line!r}):", 1)) from None
        items.append(cond)
    conditions = {"match": match, "conditions": items}
    compile_conditions(conditions, fields)
    return conditions
