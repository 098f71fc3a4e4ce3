"""Manager-written message text: the variables it may read, and rendering that reads well when one is empty.

Templates are Django template text (``{{ first_name }}``, ``{{ rep_name|default:"the team" }}``,
``{% if first_name %}…{% endif %}``). Callers pass what they know and leave the rest empty; they never
put a filler word in a variable, since only the sentence knows what fits ("Hi there," but never
"Sorry we missed your call, there!"). A template names its own fallback with Django's ``default``
filter; where it names none, the empty variable vanishes and the text around it is tidied (see
``text_tidy``), so no text ever reads "Hi ,", "Hi  !" or "at .".
"""

import re

from django.template import Context, Template
from django.template.base import FilterExpression, Node, Variable, VariableNode
from django.template.defaulttags import ForNode, IfNode, WithNode

# What each variable holds, for the admin's help and its error messages.
VARIABLES = {
    "first_name": "the lead's first name",
    "rep_name": "the first name of the lead's rep",
    "business_name": "the business's name (BUSINESS_NAME)",
    "link": "the cadence's link",
    "appointment_time": "when the appointment is, on the lead's clock",
    "appointment_location": "where the appointment is",
}
# Every drafted text may read these; the others only a cadence's steps (routing.models.cadences says which).
BASE_VARIABLES = frozenset({"first_name", "rep_name", "business_name"})
APPOINTMENT_VARIABLES = frozenset({"appointment_time", "appointment_location"})
CADENCE_VARIABLES = BASE_VARIABLES | APPOINTMENT_VARIABLES | {"link"}
TEMPLATE_HELP = (
    "Variables: {{ first_name }}, {{ rep_name }}, {{ business_name }}; a cadence's steps also {{ link }}, "
    "{{ appointment_time }}, {{ appointment_location }}. For one the lead may lack, name the words to use instead: "
    '{{ first_name|default:"there" }}. Otherwise it is left out, with the comma or "at" that went with it.'
)

# An empty variable renders as this private-use character; text_tidy removes it with the space and
# punctuation it would strand. It is never in a manager's text or a lead's data.
_BLANK = "\ue000"
_GAP = re.compile(rf"[ \t]*{_BLANK}(?:[ \t]*{_BLANK})*[ \t]*")
# Words whose object an empty variable was: "with {{ business_name }}." drops "with" too.
_PREPOSITIONS = frozenset({"at", "on", "in", "with", "from", "to", "for", "of", "by", "about", "via"})
_CLOSING = ",.;:!?)"
_PAIRS = frozenset({"()", "[]", '""', "''", "“”", "‘’"})
# "Acme Co." + "." and "Yahoo!" + ".": a name's own full stop ends the sentence (an ellipsis or "../" stays).
_DOUBLE_STOP = re.compile(r"(?<=[^.\s][.!?])\.(?=\s|$)")


# Words a sentence cannot lose: "This is {{ rep_name }} at Acme." with no rep would read "This is at Acme.", so an
# empty rep_name that the template gives no ``default`` reads as these words (the wording before templates could
# name their own, which templates already saved rely on).
STAND_INS = {"rep_name": "our team"}


class _Empty(str):
    """An empty variable: falsy and equal to "" (``default``, ``{% if %}`` see it as empty), rendered as a marker,
    or as its stand-in words (STAND_INS)."""

    stand_in = ""

    def __str__(self) -> str:
        return self.stand_in or _BLANK


def _empty(name: str) -> _Empty:
    value = _Empty()
    value.stand_in = STAND_INS.get(name, "")
    return value


def template_variables(text: str) -> set[str]:
    """The variable names ``text`` reads anywhere: ``{{ x }}``, filter arguments, ``{% if x %}``, ``{% for %}``.

    Names a ``{% for %}`` or ``{% with %}`` defines inside the text are not counted. Raises
    TemplateSyntaxError for text Django cannot parse.
    """
    used: set[str] = set()
    defined: set[str] = set()
    for node in Template(text).nodelist.get_nodes_by_type(Node):
        if isinstance(node, VariableNode):
            used |= _names(node.filter_expression)
        elif isinstance(node, IfNode):
            for condition, _ in node.conditions_nodelists:
                used |= _condition_names(condition)
        elif isinstance(node, ForNode):
            used |= _names(node.sequence)
            defined |= set(node.loopvars)
        elif isinstance(node, WithNode):
            for expression in node.extra_context.values():
                used |= _names(expression)
            defined |= set(node.extra_context)
    return used - defined - {"forloop"}


def _names(expression: FilterExpression) -> set[str]:
    names = set()
    for var in [expression.var, *(arg for _, args in expression.filters for lookup, arg in args if lookup)]:
        if isinstance(var, Variable) and var.lookups:
            names.add(var.lookups[0])
    return names


def _condition_names(condition) -> set[str]:
    if condition is None:  # {% else %}
        return set()
    if isinstance(getattr(condition, "value", None), FilterExpression):
        return _names(condition.value)
    return _condition_names(getattr(condition, "first", None)) | _condition_names(getattr(condition, "second", None))


def render_text(text: str, variables: dict) -> str:
    """Render manager-written template text as plain text (no HTML escaping), tidied around empty variables.

    ``variables`` maps names to values; a value that is None or blank, and any variable the text reads
    that is not given, counts as empty.
    """
    context = {name: _empty(name) for name in template_variables(text)}
    context.update({k: v if v is not None and str(v).strip() else _empty(k) for k, v in variables.items()})
    return text_tidy(Template(text).render(Context(context, autoescape=False)))


def text_tidy(rendered: str) -> str:
    """Remove the empty variables' markers from ``rendered`` and the spaces and punctuation they would strand.

    Gaps are tidied from the right, so one that ends a sentence can take its preposition along before the
    one to its left is looked at: "appointment with _ on _." reads "appointment.".
    - before punctuation: no space ("Hi _, thanks" reads "Hi, thanks"), and a comma or colon left
      dangling goes ("your call, _!" reads "your call!");
    - before punctuation or at a line's end: a preposition whose object was empty goes too ("at _." reads ".");
    - between words: one space; at a line's start or end, or inside brackets or quotes: none;
    - brackets or quotes around nothing go ("at _ (_)." reads ".");
    - a value's own full stop ends its sentence: "at {{ business_name }}." with "Acme Co." reads "at Acme Co.".
    """
    text = rendered
    while matches := list(_GAP.finditer(text)):
        match = matches[-1]
        left, right = text[: match.start()], text[match.end() :]
        if left[-1:] + right[:1] in _PAIRS:
            # "(_)": the brackets go, and what is left is a gap in the sentence as the variable was.
            text = left[:-1].rstrip(" \t") + _BLANK + right[1:]
            continue
        if (not left or left[-1] == "\n") and right[:1] in (*_CLOSING, *" \t") and right:
            # Nothing before it on the line: the punctuation that followed it has nothing to close.
            text = left + right[1:].lstrip(" \t")
        elif not right or right[0] == "\n" or right[0] in _CLOSING:
            text = _dangling_drop(left) + right
        elif not left or left[-1] in "\n([\"'“‘":
            text = left + right
        else:
            text = left + " " + right
    return _DOUBLE_STOP.sub("", text).strip()


def _dangling_drop(left: str) -> str:
    """``left`` without the preposition, then the comma or colon, an empty variable at its end left behind."""
    word = left.rsplit(maxsplit=1)[-1] if left.strip() and not left.endswith("\n") else ""
    if word.lower() in _PREPOSITIONS:
        left = left[: len(left) - len(word)].rstrip(" \t")
    if left.endswith((",", ";", ":")):
        left = left[:-1]
    return left
