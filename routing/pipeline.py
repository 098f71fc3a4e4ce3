"""What happens after capture: enrich, qualify, route, and answer (or ask what is missing)."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from approvals.drafting import draft_compose
from approvals.models import Action, Workflow
from approvals.services import action_propose
from audit.models import Decision
from audit.services import Stopwatch, decision_record, decisions_batched
from config.queue import requeue, requeue_cutoff
from integrations.enrichment import LEAD_COLUMNS, ContactFacts, enrichment_compute
from integrations.llm import Conversation, Criteria, Qualification
from integrations.llm.base import Status
from integrations.models import CrmEvent
from integrations.outbound import crm_event_emit, lead_data, slack_alert
from leads.choices import NOISE_INTENTS, SUSPECTED_SPAM, Channel, Stage
from leads.consent_words import ConsentReading, consent_reading
from leads.lock_objects import lead_lock
from leads.models import ConsentRecord, InboundEvent, Lead
from leads.services import PROCESS_TASK, Evidence, consent_hold_set, consent_opt_out, lead_stage_changed
from routing.booking.conversation import booking_reply, offer_attach, offer_settle
from routing.cadences import cadences_on_lead_created, cadences_on_stage
from routing.directory import owner_first_name
from routing.reasoning import conversation_for, criteria_active, provider_get
from routing.services import lead_facts, lead_locate, lead_route, noise_stage

logger = logging.getLogger(__name__)


def qualification_compute(conversation: Conversation, criteria: Criteria | None = None) -> tuple[Qualification, float]:
    """Ask the configured provider about a conversation's latest message; returns the answer and the ms taken."""
    provider = provider_get()
    with Stopwatch() as timer:
        result = provider.qualify(conversation, criteria or criteria_active())
    return result, timer.ms


def suspected_spam(event: InboundEvent) -> dict | None:
    """Why capture suspects the event is spam (a form's honeypot, a visitor past the rate limit), or None."""
    suspicion = event.payload.get(SUSPECTED_SPAM) if isinstance(event.payload, dict) else None
    return suspicion if isinstance(suspicion, dict) else None


def _event_qualify(event: InboundEvent, conversation: Conversation, criteria: Criteria) -> tuple[Qualification, float]:
    """The provider's answer; for a suspected-spam event, spam without asking it (no model is paid for a bot)."""
    suspicion = suspected_spam(event)
    if suspicion is None:
        return qualification_compute(conversation, criteria)
    why = {"honeypot": f"the form's hidden field '{suspicion.get('field', '')}' was filled, which only bots do"}.get(
        suspicion.get("reason"), "it came past the visitor's per-minute limit"
    )
    reasoning = f"Suspected spam: {why}. Kept in Noise, not answered; a person may move it back."
    return Qualification(
        intent="spam", score=0, confidence=1.0, status=Status.SPAM, reasoning=reasoning, provider="capture"
    ), 0.0


@dataclass(frozen=True)
class Enrichment:
    """What the configured enrichers found for one set of contact facts, before it is applied to the lead."""

    facts: ContactFacts
    found: dict
    errors: list[str]
    ms: float


def _contact_facts(lead: Lead) -> ContactFacts:
    return ContactFacts(phone=lead.phone, email=lead.email, postal_code=lead.postal_code, country=lead.country)


def enrichment_read(lead: Lead) -> Enrichment:
    """Ask every enricher about the lead's contact facts; reads only (enrichers may call the network)."""
    facts = _contact_facts(lead)
    with Stopwatch() as timer:
        found, errors = enrichment_compute(facts)
    return Enrichment(facts, found, errors, timer.ms)


def _enrichment_apply(lead: Lead, enrichment: Enrichment) -> list[str]:
    """Keep what is new in ``lead.enrichment`` and fill empty lead columns; never overwrites what the person said."""
    new = {k: v for k, v in enrichment.found.items() if lead.enrichment.get(k) != v}
    if not new and not enrichment.errors:
        return []
    lead.enrichment = {**lead.enrichment, **new}
    changed = ["enrichment"]
    for name in LEAD_COLUMNS:
        value = enrichment.found.get(name, {}).get("value", "")
        if value and not getattr(lead, name):
            setattr(lead, name, value)
            changed.append(name)
    decision_record(
        step=Decision.Step.ENRICH,
        lead=lead,
        output={"found": new, "filled": changed[1:], "errors": enrichment.errors},
        reasoning="; ".join(f"{k} = {v['value']} (from {v['source']})" for k, v in new.items()) or "nothing new",
        duration_ms=enrichment.ms,
        outcome=Decision.Outcome.FAILED if enrichment.errors and not new else Decision.Outcome.OK,
    )
    return changed


def _qualification_apply(lead: Lead, result: Qualification, *, words_opt_out: bool) -> list[str]:
    """Store the answer on the lead (score, facts, stage); returns the fields changed.

    A model's opt-out alone moves no stage (the lead is held for a person instead); the person's own words do.
    """
    previous = lead.qualification or {}
    lead.score = result.score
    # Questions already asked in this conversation carry over, so none is asked twice.
    lead.qualification = {**result.as_dict(), "asked": previous.get("asked", [])}
    changed = ["score", "qualification"]
    if result.language and result.language != lead.language:
        # The language of the latest message that could tell (a reply too short to tell keeps the lead's).
        lead.language = result.language
        changed.append("language")
    if result.postal_code and not lead.postal_code:
        # The person gave it in a message (often in answer to our question).
        lead.postal_code = result.postal_code
        changed.append("postal_code")
    if lead.stage in (Stage.NEW, Stage.CONTACTED):
        intent = result.intent if result.intent != "opt_out" or words_opt_out else ""
        stage = Stage.QUALIFIED if result.status == Status.QUALIFIED else noise_stage(intent)
        if stage and stage != lead.stage:
            lead.stage = stage
            changed.append("stage")
    return changed


def _qualification_record(lead: Lead, event: InboundEvent, result: Qualification, ms: float) -> None:
    decision_record(
        step=Decision.Step.QUALIFY,
        lead=lead,
        actor_type=Decision.ActorType.SYSTEM if result.provider in ("rules", "capture") else Decision.ActorType.MODEL,
        input_summary=event.message[:500],
        output=result.as_dict(),
        reasoning=result.reasoning,
        confidence=result.confidence,
        duration_ms=ms,
        model=result.model,
        tokens_in=result.usage.get("tokens_in"),
        tokens_out=result.usage.get("tokens_out"),
    )


@dataclass(frozen=True)
class NextStep:
    """What to send the lead now: a workflow's message (with the fact it asks for), a hand-over, or nothing."""

    workflow: str = ""
    asks_for: str = ""
    handover: bool = False


def lead_answered(lead: Lead) -> bool:
    """The lead has had its first answer (sent, or proposed and waiting)."""
    return (
        lead.first_response_at is not None
        or lead.actions.filter(workflow__in=(Workflow.FIRST_RESPONSE, Workflow.CLARIFYING_QUESTION)).exists()
    )


def next_step(*, answered: bool, asked: list[str], qualification: Qualification, criteria: Criteria) -> NextStep:
    """The first response, or the next clarifying question, or a hand-over; one at a time. Pure.

    A lead with missing facts is asked for them one question at a time; each reply is
    re-qualified in the same conversation until it is qualified, ruled out, or the questions run
    out (then a person takes over). A lead already answered, and not being asked, gets nothing.
    """
    if answered and not asked:
        return NextStep()
    if qualification.status != Status.CLARIFY:
        return NextStep() if answered else NextStep(Workflow.FIRST_RESPONSE)
    unasked = [fact for fact in qualification.missing if fact not in asked]
    if not unasked or len(asked) >= criteria.max_questions:
        return NextStep(handover=True)
    return NextStep(Workflow.CLARIFYING_QUESTION, unasked[0])


def draft_for(
    lead: Lead, step: NextStep, conversation: Conversation, criteria: Criteria, rep_name: str, instruction: str = ""
):
    """The step's message for ``lead``: the manager's template, which the configured provider may rewrite.

    The pipeline, the what-if and the portal's Regenerate (with a person's ``instruction``) all draft here.
    """
    return draft_compose(
        lead=lead,
        workflow=step.workflow,
        rep_name=rep_name,
        asks_for=step.asks_for,
        provider=provider_get(),
        conversation=(*conversation.history, conversation.message),
        voice=criteria.voice,
        instruction=instruction,
    )


def _respond(
    lead: Lead, event: InboundEvent, conversation: Conversation, qualification: Qualification, criteria: Criteria
) -> Action | None:
    # A reply picking, moving or cancelling a time is answered by booking (routing.booking), not by a new draft.
    if not event.lead_created and booking_reply(lead, event):
        return None
    asked = list(lead.qualification.get("asked", []))
    step = next_step(answered=lead_answered(lead), asked=asked, qualification=qualification, criteria=criteria)
    if step.handover:
        decision_record(
            step=Decision.Step.PROPOSE,
            lead=lead,
            workflow=Workflow.CLARIFYING_QUESTION,
            reasoning=f"Handed to a person: still missing {', '.join(qualification.missing)} after "
            f"{len(asked)} question(s).",
            output={"asked": asked, "missing": list(qualification.missing)},
            outcome=Decision.Outcome.ESCALATED,
        )
        return None
    if not step.workflow:
        return None
    if step.asks_for:
        lead.qualification = {**lead.qualification, "asked": [*asked, step.asks_for]}
        lead.save(update_fields=["qualification", "updated_at"])
    rep_name = owner_first_name(lead.owner_id)
    content = draft_for(lead, step, conversation, criteria, rep_name)
    if content is None:
        decision_record(
            step=Decision.Step.PROPOSE,
            lead=lead,
            workflow=step.workflow,
            reasoning="Nothing drafted: no reachable channel or no active template for it.",
            outcome=Decision.Outcome.ESCALATED,
        )
        return None
    content, offer = offer_attach(lead, step.workflow, content)
    asking = f" Asking for the {step.asks_for.replace('_', ' ')}." if step.asks_for else ""
    action = action_propose(
        lead=lead,
        workflow=step.workflow,
        content=content,
        confidence=qualification.confidence,
        reasoning=qualification.reasoning + asking,
        event=event,
        send_here=True,
        extra_payload={"offer": offer.pk} if offer is not None else None,
    )
    offer_settle(offer, action)
    return action


@dataclass(frozen=True)
class Prepared:
    """An event's enrichment and qualification, computed outside any transaction, waiting to be applied."""

    event: InboundEvent
    criteria: Criteria
    enrichment: Enrichment
    conversation: Conversation
    qualification: Qualification
    ms: float


def event_prepare(event_id: int) -> Prepared | None:
    """Ask the enrichers and the model about an event, holding no lock (they may call the network).

    Returns None for an event already processed.
    """
    event = InboundEvent.objects.select_related("lead").get(pk=event_id)
    if event.processed_at is not None:
        return None
    criteria = criteria_active()
    conversation = conversation_for(event.lead, message=event.message, channel=event.channel, event=event)
    qualification, ms = _event_qualify(event, conversation, criteria)
    return Prepared(event, criteria, enrichment_read(event.lead), conversation, qualification, ms)


def event_apply(prepared: Prepared) -> InboundEvent:
    """Apply a prepared event under the lead's row lock: store, route, answer; marks the event processed.

    If another event of the same lead changed what enrichment or qualification read in the
    meantime, they are asked again under the lock, so a stale answer never overwrites a newer one.
    """
    criteria, enrichment, conversation = prepared.criteria, prepared.enrichment, prepared.conversation
    qualification, ms = prepared.qualification, prepared.ms
    with transaction.atomic(), decisions_batched():
        # The lead's row lock is taken before the event's, as capture does. No select_related("owner"): when
        # the lock waited for another event's routing, PostgreSQL re-reads the lead row but not the joined
        # owner, so owner_id would be new and owner None; the owner is read after the lock instead.
        lead = lead_lock(prepared.event.lead_id)
        # Marked processed first, in the same transaction: the update locks the event's row, and finding it
        # already marked means another run got here first. Nothing else of an event changes after capture.
        event, now = prepared.event, timezone.now()
        if not InboundEvent.objects.filter(pk=event.pk, processed_at=None).update(processed_at=now):
            return InboundEvent.objects.get(pk=event.pk)
        event.processed_at, event.lead = now, lead
        if enrichment.facts != _contact_facts(lead):
            enrichment = enrichment_read(lead)
        current = conversation_for(lead, message=event.message, channel=event.channel, event=event)
        if current != conversation:
            conversation = current
            qualification, ms = _event_qualify(event, conversation, criteria)
        before = {"stage": lead.stage, "score": lead.score or 0}
        reading = consent_reading(event.message)
        suspected = suspected_spam(event) is not None
        # A bot can post a known person's address: its catch is logged on their lead but says nothing about them.
        changed = (
            []
            if suspected and not event.lead_created
            else _qualification_apply(lead, qualification, words_opt_out=reading.kind == "opt_out")
        )
        changed += lead_locate(lead)
        # After the postal code: a ZIP's time zone beats a phone number's area code.
        changed += _enrichment_apply(lead, enrichment)
        lead._change_reason = f"qualified by the {qualification.provider} provider"
        unsaved = [*dict.fromkeys(changed), "updated_at"]
        _qualification_record(lead, event, qualification, ms)
        # Words in a suspected bot's post are not the person's: they neither opt anyone out nor hold anyone.
        consent = "" if suspected else _consent(lead, event, qualification, reading)
        _announce(lead, event, before)
        # A held lead is answered as any other: the draft waits with the hold for the person who settles it.
        worth_answering = not suspected and (
            consent != "opted_out" and (qualification.intent not in NOISE_INTENTS or consent == "held")
        )
        if worth_answering and lead.owner_id is None:
            facts = lead_facts(lead, qualification.as_dict(), event)
            # Routing saves the qualification with the owner: one lead update and one history row, not two.
            # It sets lead.owner_id, which drops a stale cached owner.
            lead_route(lead=lead, facts=facts, unsaved=unsaved)
        else:
            lead.save(update_fields=unsaved)
        if worth_answering:
            if event.lead_created:
                cadences_on_lead_created(lead=lead)
            _hot_alert(lead, event, before)
            # A call is answered by a person or, when missed, by the text-back (routing.voice).
            if event.channel != Channel.CALL:
                _respond(lead, event, conversation, qualification, criteria)
    logger.info("event.processed", extra={"event_id": event.pk, "lead_id": lead.pk, "intent": qualification.intent})
    return event


# The channel an opt-out in someone's own words is about: the one they wrote on; from a form or a call, all.
CONSENT_CHANNELS = {Channel.SMS: ConsentRecord.Channel.SMS, Channel.EMAIL: ConsentRecord.Channel.EMAIL}


def _consent(lead: Lead, event: InboundEvent, qualification: Qualification, reading: ConsentReading) -> str:
    """What the message says about consent, acted on: "opted_out", "held" (for a person) or "".

    The person's words decide an opt-out (keywords were already acted on by the SMS webhook; here, sentences in
    email, chat and forms too); a model's reading alone, or words a person must weigh, only hold the lead.
    """
    channel = CONSENT_CHANNELS.get(event.channel, ConsentRecord.Channel.ALL)
    if reading.kind == "opt_out":
        flags = {"sms": lead.opted_out, "email": lead.email_opted_out, "all": lead.opted_out and lead.email_opted_out}
        if not flags[channel]:
            change = consent_opt_out(
                channel=channel,
                how=reading.how,
                lead=lead,
                evidence=Evidence(words=event.message, event=event, actor_label=f"{event.channel} {reading.how}"),
            )
            for changed in change.leads:
                if changed.pk == lead.pk:
                    lead.opted_out, lead.email_opted_out = changed.opted_out, changed.email_opted_out
        return "opted_out"
    if reading.kind == "review" or qualification.intent == "opt_out" or qualification.consent_review:
        why = "words a person should weigh" if reading.kind == "review" else f"the {qualification.provider} model"
        held = consent_hold_set(lead_id=lead.pk, words=event.message, event=event, why=why)
        lead.consent_hold = held.consent_hold
        return "held"
    return ""


def _announce(lead: Lead, event: InboundEvent, before: dict) -> None:
    """Tell the CRM about a new lead (its stage starts cadences), or move what a stage change sets off."""
    if event.lead_created:
        crm_event_emit(
            CrmEvent.LEAD_CREATED, lead=lead, data=lambda: {"lead": lead_data(lead), "channel": event.channel}
        )
        cadences_on_stage(lead=lead, before=before["stage"], by="qualification")
    else:
        lead_stage_changed(lead, before=before["stage"], by="nightshift")


def _hot_alert(lead: Lead, event: InboundEvent, before: dict) -> None:
    """Tell the owner's team on Slack about a lead that just crossed the hot score (after routing: their channel)."""
    hot = settings.SLACK_HOT_SCORE
    if (lead.score or 0) >= hot > before["score"]:
        intent = (lead.qualification or {}).get("intent", "")
        slack_alert(
            lead=lead,
            event="hot_lead",
            text=f":fire: Hot lead: {lead} scored {lead.score} ({intent.replace('_', ' ')}) via {event.channel}.",
        )


def events_unprocessed_requeue(*, older_than_minutes: int | None = None, now=None) -> int:
    """Queue again the events captured long ago and still not processed; returns how many.

    Processing is safe to run twice (an event already processed is left alone).
    """
    cutoff = requeue_cutoff(older_than_minutes, now)
    waiting = InboundEvent.objects.filter(processed_at=None, created_at__lt=cutoff).order_by("created_at")
    return requeue(PROCESS_TASK, waiting.values_list("pk", flat=True))


def event_process(*, event_id: int) -> InboundEvent:
    """Enrich and qualify the event's lead, route it if it has no owner, and answer it (or ask what is missing).

    The network calls (enrichers, the model) happen before any transaction; the results are
    applied under the lead's row lock, so two events of one lead are applied one after the
    other. An event already processed is left alone (safe to run twice).
    """
    prepared = event_prepare(event_id)
    if prepared is None:
        return InboundEvent.objects.get(pk=event_id)
    return event_apply(prepared)
