"""Conditions edited as readable lines (``score > 60``), stored as JSON: routing rules and policy gates share it."""

from django import forms
from django.utils.html import format_html

from leads import conditions as language


def conditions_help(fields, examples) -> str:
    return format_html(
        "One condition per line: field, operator, value. For example: {}<br>Fields: {}, or payload.&lt;key&gt; for "
        "a custom field. Operators: {}. No lines: always matches.",
        " · ".join(examples),
        ", ".join(fields),
        ", ".join(language.OPERATOR_WORDS.values()),
    )


class ConditionsModelForm(forms.ModelForm):
    """A model form whose ``conditions`` JSON is edited as text; errors name the line."""

    condition_fields = language.FIELDS
    condition_examples = (
        "channel is sms",
        "score > 60",
        "budget between 5000 and 20000",
        "region in US-TX, US-OK",
        "message matches roof|gutter",
        "company is empty",
        "payload.product is solar",
    )

    match = forms.ChoiceField(
        choices=[("all", "All conditions hold"), ("any", "Any condition holds")], initial="all", label="Match when"
    )
    conditions_text = forms.CharField(
        label="Conditions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80, "style": "font-family: monospace"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        conditions = self.instance.conditions or language.empty_conditions()
        self.fields["match"].initial = conditions.get("match", "all")
        self.fields["conditions_text"].initial = language.format_lines(conditions)
        self.fields["conditions_text"].help_text = conditions_help(self.condition_fields, self.condition_examples)

    def clean(self):
        cleaned = super().clean()
        try:
            self.instance.conditions = language.parse_lines(
                cleaned.get("conditions_text", ""), match=cleaned.get("match", "all"), fields=self.condition_fields
            )
        except ValueError as exc:
            self.add_error("conditions_text", str(exc))
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        # Model.clean reports condition errors under "conditions", which this form shows as text.
        if "conditions" in self.errors:
            self.add_error("conditions_text", self.errors.pop("conditions"))
