from django.db import models


class Channel(models.TextChoices):
    FORM = "form", "Web form"
    SMS = "sms", "SMS"
    CALL = "call", "Phone call"
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"
    AD = "ad", "Ad lead form"
    MARKETPLACE = "marketplace", "Marketplace"
    API = "api", "API"


class Language(models.TextChoices):
    """The languages intents, opt-outs and answers are handled in (each has its consent words: leads.consent_words)."""

    EN = "en", "English"
    ES = "es", "Spanish"
    FR = "fr", "French"
    DE = "de", "German"


class Stage(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    QUOTED = "quoted", "Quoted"
    APPOINTMENT = "appointment", "Appointment"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    UNQUALIFIED = "unqualified", "Unqualified"
    SPAM = "spam", "Spam"


# What a person wants, as qualification labels it (every reasoning provider answers in these).
INTENTS = (
    "new_project",
    "quote_request",
    "appointment",
    "question",
    "existing_customer",
    "complaint",
    "job_seeker",
    "vendor_pitch",
    "spam",
    "opt_out",
    "other",
)
# Intents that never reach a rep's queue.
NOISE_INTENTS = frozenset({"spam", "job_seeker", "vendor_pitch", "opt_out"})
# The key of an event's payload that marks it suspected spam ({"reason": "honeypot" | "rate_limit", …}): stored,
# shown in Noise, never qualified by a model nor answered (routing.pipeline).
SUSPECTED_SPAM = "suspected_spam"
# What a website form's fields can be mapped to (leads.form_fields; WebForm.field_map).
FORM_FIELD_TARGETS = (
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "message",
    "postal_code",
    "country",
    "street_address",
    "city",
    "region",
)
# Intents of a person who may buy: only these are asked clarifying questions.
SALES_INTENTS = frozenset({"new_project", "quote_request", "appointment"})


# Stages in which a lead still needs its rep: what capacity caps and least-loaded routing count.
OPEN_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.QUOTED, Stage.APPOINTMENT)

# The funnel, in order: reports count a lead at every stage up to the furthest it reached.
FUNNEL = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.QUOTED, Stage.APPOINTMENT, Stage.WON)


def funnel_rank(stage: str) -> int:
    """1 for new … 6 for won; 0 for stages off the funnel (lost, unqualified, spam)."""
    return FUNNEL.index(stage) + 1 if stage in FUNNEL else 0
