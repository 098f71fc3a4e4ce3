"""What qualification reads: the manager's criteria and the labeled intent examples."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

from audit.history import History
from integrations.llm import criteria as reasoning


class QualificationCriteria(models.Model):
    """What makes a lead worth a rep's time, in words a manager edits; the active row is used by every provider."""

    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    services = models.TextField(
        blank=True, help_text="Services the business offers, one per line; a lead asking for one fits."
    )
    service_area = models.TextField(blank=True, help_text="Postal-code prefixes served, one per line; blank: anywhere.")
    disqualifiers = models.TextField(blank=True, help_text="Words or phrases that rule a lead out, one per line.")
    intent_phrases = models.TextField(
        blank=True,
        help_text="Extra words that signal an intent, one intent per line: <code>quote_request: bid, ballpark</code>.",
    )
    budget_bands = models.TextField(
        blank=True,
        help_text="Budget bands, one per line: <code>small: 0-5000</code>, <code>large: 20000+</code>.",
    )
    required_facts = models.CharField(
        max_length=100,
        default="",
        blank=True,
        help_text="Facts a sales lead must give before it counts as qualified; missing ones are asked, one at a "
        "time. Any of: budget, postal_code, timeline. Blank: no clarifying questions.",
    )
    base_score = models.PositiveSmallIntegerField(default=35, validators=[MaxValueValidator(100)])
    weight_intent = models.PositiveSmallIntegerField(
        default=20, validators=[MaxValueValidator(100)], help_text="Added for a buying intent (project, quote, visit)."
    )
    weight_service = models.PositiveSmallIntegerField(default=20, validators=[MaxValueValidator(100)])
    weight_budget = models.PositiveSmallIntegerField(default=10, validators=[MaxValueValidator(100)])
    weight_timeline = models.PositiveSmallIntegerField(default=5, validators=[MaxValueValidator(100)])
    weight_urgency = models.PositiveSmallIntegerField(default=10, validators=[MaxValueValidator(100)])
    weight_area = models.PositiveSmallIntegerField(
        default=5, validators=[MaxValueValidator(100)], help_text="Added inside the service area (outside: -30)."
    )
    qualify_threshold = models.PositiveSmallIntegerField(
        default=50,
        validators=[MaxValueValidator(100)],
        help_text="Score (0-100) at or above which a lead is qualified.",
    )
    clarify_threshold = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(100)],
        help_text="Below the qualify threshold but at or above this, a lead with missing facts is asked for them.",
    )
    spam_threshold = models.PositiveSmallIntegerField(
        default=60,
        validators=[MaxValueValidator(100)],
        help_text="Spam score (links, gibberish, spam phrasing, no contact) at or above which a lead is spam.",
    )
    max_questions = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(10)], help_text="Clarifying questions before a person takes over."
    )
    voice = models.TextField(
        blank=True, help_text="How the business sounds, for model-written drafts (e.g. 'friendly, plain, no jargon')."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["-active", "name"]
        verbose_name_plural = "qualification criteria"

    def __str__(self):
        return self.name

    @staticmethod
    def lines(text: str) -> list[str]:
        return [line.strip().lower() for line in text.splitlines() if line.strip()]

    def clean(self):
        errors = {}
        for name, parse in (
            ("intent_phrases", reasoning.intent_phrases_parse),
            ("budget_bands", reasoning.budget_bands_parse),
            ("required_facts", reasoning.required_facts_parse),
        ):
            try:
                parse(getattr(self, name))
            except ValueError as exc:
                errors[name] = str(exc)
        if self.clarify_threshold > self.qualify_threshold:
            errors["clarify_threshold"] = "The clarify threshold must not be above the qualify threshold."
        if errors:
            raise ValidationError(errors)

    def as_criteria(self) -> reasoning.Criteria:
        """The row as the plain data providers read."""
        return reasoning.Criteria(
            services=tuple(self.lines(self.services)),
            service_area=tuple(self.lines(self.service_area)),
            disqualifiers=tuple(self.lines(self.disqualifiers)),
            intent_phrases=reasoning.intent_phrases_parse(self.intent_phrases),
            budget_bands=reasoning.budget_bands_parse(self.budget_bands),
            required_facts=reasoning.required_facts_parse(self.required_facts),
            base_score=self.base_score,
            weight_intent=self.weight_intent,
            weight_service=self.weight_service,
            weight_budget=self.weight_budget,
            weight_timeline=self.weight_timeline,
            weight_urgency=self.weight_urgency,
            weight_area=self.weight_area,
            qualify_threshold=self.qualify_threshold,
            clarify_threshold=self.clarify_threshold,
            spam_threshold=self.spam_threshold,
            max_questions=self.max_questions,
            voice=self.voice.strip(),
        )


class IntentExample(models.Model):
    """A message labeled with its intent: what the offline classifier is trained on, and (when written by the
    business, not a lead) what a model is shown as a worked example."""

    class Source(models.TextChoices):
        SEED = "seed", "Starter set"
        MANAGER = "manager", "Added by a manager"
        CORRECTION = "correction", "A rep's correction"

    intent = models.CharField(max_length=30, choices=[(i, i.replace("_", " ")) for i in reasoning.INTENTS])
    text = models.TextField()
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANAGER)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # float32 sentence vector of ``text``, computed on first use; cleared when the text changes.
    vector = models.BinaryField(null=True, blank=True, editable=False)
    # The embedding model that computed ``vector`` (embedding.Embedder.name): another model's vector is recomputed.
    vector_model = models.CharField(max_length=100, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["intent", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["intent", "text"], name="intent_example_unique")]

    def __str__(self):
        return f"{self.intent}: {self.text[:60]}"


class LabelDefinition(models.Model):
    """What an intent means, in the manager's words: the model reads it when qualifying (integrations.llm.prompts)."""

    intent = models.CharField(max_length=30, unique=True, choices=[(i, i.replace("_", " ")) for i in reasoning.INTENTS])
    definition = models.TextField(
        help_text="What this label means for your business, as you would explain it to a new rep: who writes "
        "it, and what it is not (e.g. 'a company offering us a quote is a vendor pitch')."
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = History()

    class Meta:
        ordering = ["intent"]

    def __str__(self):
        return self.intent.replace("_", " ")
