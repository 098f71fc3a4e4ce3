"""Approval gates' facts and explanations. Pure: services gather the facts, leads.conditions evaluates them."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from leads import conditions as language

GATE_FIELDS = (
    "workflow",
    "channel",
    "amount",
    "confidence",
    "score",
    "intent",
    "vip",
    "first_message",
    "outside_business_hours",
    "company",
    "source",
    # Booking only: the booking type's slug, and how many hours ahead the meeting is.
    "booking_type",
    "hours_ahead",
)


class GateFacts:
    """What a gate can test about a proposed action; costly facts are computed only when a gate asks."""

    def __init__(self, values: dict[str, Any], lazy: dict[str, Callable[[], Any]] | None = None):
        self._values = dict(values)
        self._lazy = lazy or {}

    def get(self, name: str) -> Any:
        if name not in self._values and name in self._lazy:
            self._values[name] = self._lazy[name]()
        return self._values.get(name)


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _number_text(value: Any) -> str:
    number = float(value) if isinstance(value, int | float | Decimal) else None
    if number is None:
        return str(value)
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:,.2f}"


def gate_explain(name: str, conditions: dict, facts: GateFacts, workflow_label: str) -> str:
    """Why a gate held, in words: ``gate 'Big quotes': quote amount 7,500 > 5,000``."""
    parts = []
    for cond in conditions.get("conditions", []):
        field, op, value = cond.get("field", ""), cond.get("op", ""), cond.get("value")
        label = f"{workflow_label.lower()} amount" if field == "amount" else field.replace("_", " ")
        word = language.OPERATOR_WORDS.get(op, op)
        if op in ("gt", "lt"):
            parts.append(f"{label} {_number_text(facts.get(field))} {word} {_number_text(value)}")
        elif op == "between":
            parts.append(
                f"{label} {_number_text(facts.get(field))} between {_number_text(value[0])} and "
                f"{_number_text(value[1])}"
            )
        else:
            parts.append(language.format_condition({**cond, "field": label}))
    joiner = " or " if conditions.get("match") == "any" else " and "
    return f"gate '{name}': " + (joiner.join(parts) if parts else f"every {workflow_label.lower()}")
