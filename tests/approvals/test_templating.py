"""Templates read well whatever the lead lacks: every seeded text with every variable empty, and the tidy rules."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from approvals.drafting import OPT_OUT_CONFIRMATION, QUESTIONS
from approvals.models import MessageTemplate, Workflow
from approvals.templating import CADENCE_VARIABLES, render_text, template_variables
from routing.models import CadenceStep
from routing.voice import TEXT_BACK
from tests.conftest import user

FILLED = {
    "first_name": "Ada",
    "rep_name": "Sam",
    "business_name": "Acme Roofing",
    "link": "https://g.page/r/acme/review",
    "appointment_time": "Monday June 1 at 9:00 AM",
    "appointment_location": "12 Oak St",
}
# What an empty variable must never leave behind.
ARTIFACTS = re.compile(r"\{|\}|\ue000| [,.!?;:)]|  |[,;:] ?[,.!?;:]|\( ?\)|\bthere[!.?]|^[,.;:!?]", re.MULTILINE)
# A preposition that ends a sentence is an artifact unless the author wrote it so ("opt back in.").
DANGLING = re.compile(r"\b(?:at|on|in|with|from|to|for|of|by|about)[.!?,:]")


def reads_well(rendered: str, text: str) -> bool:
    dangling = [m.group(0) for m in DANGLING.finditer(rendered) if m.group(0) not in text]
    return not ARTIFACTS.search(rendered) and not dangling


def seeded_texts() -> dict[str, str]:
    """Every text the demo seeds and every built-in default, by a name for the failure message."""
    texts = {f"template {t.name}": t.body for t in MessageTemplate.objects.all()}
    texts |= {f"subject {t.name}": t.subject for t in MessageTemplate.objects.exclude(subject="")}
    texts |= {f"note {s}": s.note for s in CadenceStep.objects.exclude(note="")}
    texts |= {f"question {fact}": text for fact, text in QUESTIONS.items()}
    texts |= {"default text-back": TEXT_BACK, "default opt-out confirmation": OPT_OUT_CONFIRMATION}
    return texts


@pytest.mark.django_db
def test_every_seeded_template_reads_well_with_every_variable_empty_or_filled(demo):
    texts = seeded_texts()
    assert len(texts) >= 20, sorted(texts)
    empty = dict.fromkeys(FILLED, "")
    for name, text in texts.items():
        for variables in (empty, {}, dict.fromkeys(FILLED, None), FILLED):
            rendered = render_text(text, variables)
            assert rendered and reads_well(rendered, text), (name, variables == FILLED, rendered)
            assert rendered[0].isupper() or rendered.startswith("https"), (name, rendered)
        # Each variable empty on its own, the others filled: the mixes a real lead has.
        for missing in FILLED:
            rendered = render_text(text, {**FILLED, missing: ""})
            assert reads_well(rendered, text), (name, missing, rendered)
    for template in MessageTemplate.objects.all():
        template.full_clean()  # the admin's checks, variables included


@pytest.mark.django_db
def test_the_missed_call_text_names_the_caller_only_when_known(demo):
    template = MessageTemplate.objects.get(workflow=Workflow.MISSED_CALL)
    assert template.render(first_name="", rep_name="", business_name="") == (
        "Sorry we missed your call! This is the team. How can we help? Reply here and we'll get right back to you."
    )
    assert template.render(first_name="", rep_name="Sam", business_name="Acme").startswith(
        "Sorry we missed your call! This is Sam at Acme. How can we help?"
    )
    assert template.render(first_name="Ada", rep_name="Sam", business_name="Acme").startswith(
        "Sorry we missed your call, Ada! This is Sam at Acme."
    )


@pytest.mark.parametrize(
    ("text", "empty", "filled"),
    [
        ("Sorry we missed your call, {{ first_name }}!", "Sorry we missed your call!",
         "Sorry we missed your call, Ada!"),
        ("Hi {{ first_name }}, thanks!", "Hi, thanks!", "Hi Ada, thanks!"),
        ("Hi {{ first_name }}!", "Hi!", "Hi Ada!"),
        ('Hi {{ first_name|default:"there" }}, thanks!', "Hi there, thanks!", "Hi Ada, thanks!"),
        ("Thanks, {{ first_name }}", "Thanks", "Thanks, Ada"),
        ("This is {{ rep_name }} at {{ business_name }}.", "This is our team.", "This is Sam at Acme Roofing."),
        ("See you on {{ appointment_time }} at {{ appointment_location }}.", "See you.",
         "See you on Monday June 1 at 9:00 AM at 12 Oak St."),
        ("Meet {{ rep_name }} ({{ appointment_location }}) today", "Meet our team today", "Meet Sam (12 Oak St) today"),
        ("{{ first_name }} {{ rep_name }}: call back", "our team: call back", "Ada Sam: call back"),
        ("Your quote from {{ business_name }}", "Your quote", "Your quote from Acme Roofing"),
        ("Hi {{ first_name }},\n\nBest,\n{{ rep_name }}", "Hi,\n\nBest,\nour team", "Hi Ada,\n\nBest,\nSam"),
        ("{% if first_name %}Hi {{ first_name }}{% else %}Hello{% endif %}, {{ nickname }} ok", "Hello, ok",
         "Hi Ada, ok"),
        ("Review: {{ link }}", "Review", "Review: https://g.page/r/acme/review"),
        ("Reply STOP at any time.", "Reply STOP at any time.", "Reply STOP at any time."),
        ("Hi  {{ first_name }}", "Hi", "Hi  Ada"),
    ],
)  # fmt: skip
def test_an_empty_variable_is_left_out_with_what_it_would_strand(text, empty, filled):
    """An empty rep_name reads "our team" (STAND_INS): "This is at Acme." is not a sentence."""
    assert render_text(text, {}) == empty
    assert render_text(text, FILLED) == filled


def test_a_name_that_ends_in_a_full_stop_ends_the_sentence_once():
    text = "This is {{ rep_name }} at {{ business_name }}. Wait... see ../x, or {{ link }}."
    variables = {"rep_name": "Sam", "business_name": "Acme Co.", "link": "https://acme.example/?q=1"}
    assert render_text(text, variables) == "This is Sam at Acme Co. Wait... see ../x, or https://acme.example/?q=1."
    assert render_text(text, {**variables, "business_name": "Yahoo!"}).startswith("This is Sam at Yahoo! Wait")


def test_a_variable_is_found_wherever_the_text_reads_it():
    text = (
        "{% if first_name and rep_name != 'x' %}{{ link|default:business_name }}{% endif %}"
        "{% for item in appointment_location %}{{ item }}{{ forloop.counter }}{% endfor %}"
        "{% with who=appointment_time %}{{ who }}{% endwith %}"
    )
    assert template_variables(text) == set(FILLED)
    assert template_variables(text) <= CADENCE_VARIABLES


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("workflow", "field", "text", "error"),
    [
        ("missed_call", "body", "Hi {{ frist_name }}!", "{{ frist_name }} is not a variable here; use: "),
        ("first_response", "subject", "{{ link }} from us", "{{ link }} is not a variable here"),
        ("opt_out_confirmation", "body", "{{ rep_name }}: unsubscribed", "{{ rep_name }} is not a variable here"),
        ("follow_up", "body", "{% if budget %}{{ quote }}{% endif %}", "{{ budget }}, {{ quote }} are not variables"),
        ("follow_up", "body", "Hi {{ first_name|nosuchfilter }}", "Template error: Invalid filter: &#x27;nosuchfilter"),
    ],
)
def test_the_admin_names_an_unknown_variable(demo, workflow, field, text, error):
    client = Client()
    client.force_login(user("manager"))
    form = {"name": "Bad one", "workflow": workflow, "channel": "sms", "asks_for": "", "subject": "", "body": "Hi!"}
    form["active"] = "on"
    response = client.post("/admin/approvals/messagetemplate/add/", {**form, field: text})
    assert response.status_code == 200, "the form comes back with its error"
    assert error in response.content.decode()
    assert not MessageTemplate.objects.filter(name="Bad one").exists()
    with pytest.raises(ValidationError) as raised:
        MessageTemplate(name="x", workflow=workflow, channel="sms", **{"body": "Hi!", field: text}).full_clean()
    assert field in raised.value.message_dict


@pytest.mark.django_db
def test_the_admin_shows_how_to_name_a_fallback(demo):
    client = Client()
    client.force_login(user("manager"))
    page = client.get("/admin/approvals/messagetemplate/add/").content.decode()
    assert '{{ first_name|default:"there" }}' in page
