"""What happens after capture: enrich, qualify, route, and answer (or ask what is missing)."""

import logging

from django.db import transaction
from django.utils import timezone

from approvals.drafting import draft_compose
from approvals.models import Action, Workflow
from approvals.services import action_propose
from audit.models import Decision
from audit.services import Stopwatch, decision_record
from integrations.enrichment import LEAD_COLUMNS, LeadFacts, enrichment_compute
from integrations.llm import Conversation, Criteria, Qualification
from integrations.llm.base import NOISE_INTENTS, Status
from leads.choices import Stage
from leads.models import InboundEvent, Lead
from routing.reasoning import conversation_for, criteria_active, provider_get
from routing.services import lead_facts, lead_locate, lead_route

logger = logging.getLogger(__name__)


def qualification_compute(conversation: Conversation, criteria: Criteria | None = None) -> tuple[Qualification, float]:
    """Ask the configured provider about a conversation's latest message; returns the answer and the ms taken."""
    provider = provider_get()
    with Stopwatch() as timer:
        result = provider.qualify(conversation, criteria or criteria_active())
    return result, timer.ms


def lead_enrich(lead: Lead) -> list[str]:
    """Fill what can be inferred about the lead (phone type, company, time zone…), each with its source.

    Lead columns are filled only when empty: what the person said is never overwritten.
    Returns the fields changed; records an enrich Decision when anything new was found.
    """
    facts = LeadFacts(phone=lead.phone, email=lead.email, postal_code=lead.postal_code, country=lead.country)
    with Stopwatch() as timer:
        found, errors = enrichment_compute(facts)
    new = {k: v for k, v in found.items() if lead.enrichment.get(k) != v}
    if not new and not errors:
        return []
    lead.enrichment = {**lead.enrichment, **new}
    changed = ["enrichment"]
    for name in LEAD_COLUMNS:
        value = found.get(name, {}).get("value", "")
        if value and not getattr(lead, name):
            setattr(lead, name, value)
            changed.append(name)
    decision_record(
        step=Decision.Step.ENRICH,
        lead=lead,
        output={"found": new, "filled": changed[1:], "errors": errors},
        reasoning="; ".join(f"{k} = {v['value']} (from {v['source']})" for k, v in new.items()) or "nothing new",
        duration_ms=timer.ms,
        outcome=Decision.Outcome.FAILED if errors and not new else Decision.Outcome.OK,
    )
    return changed


def _lead_qualify(lead: Lead, event: InboundEvent, criteria: Criteria) -> Qualification:
    conversation = conversation_for(lead, message=event.message, channel=event.channel, event=event)
    result, ms = qualification_compute(conversation, criteria)
    previous = lead.qualification or {}
    lead.score = result.score
    # Questions already asked in this conversation carry over, so none is asked twice.
    lead.qualification = {**result.as_dict(), "asked": previous.get("asked", [])}
    changed = ["score", "qualification"]
    if result.postal_code and not lead.postal_code:
        # The person gave it in a message (often in answer to our question).
        lead.postal_code = result.postal_code
        changed.append("postal_code")
    changed += lead_locate(lead)
    if result.intent == "opt_out":
        lead.opted_out = True
        changed.append("opted_out")
    if lead.stage in (Stage.NEW, Stage.CONTACTED):
        stage = {Status.SPAM: Stage.SPAM, Status.QUALIFIED: Stage.QUALIFIED}.get(result.status)
        if result.intent in NOISE_INTENTS and result.intent != "spam":
            stage = Stage.UNQUALIFIED
        if stage and stage != lead.stage:
            lead.stage = stage
            changed.append("stage")
    lead._change_reason = f"qualified by the {result.provider} provider"
    lead.save(update_fields=[*changed, "updated_at"])
    decision_record(
        step=Decision.Step.QUALIFY,
        lead=lead,
        actor_type=Decision.ActorType.SYSTEM if result.provider == "rules" else Decision.ActorType.MODEL,
        input_summary=event.message[:500],
        output=result.as_dict(),
        reasoning=result.reasoning,
        confidence=result.confidence,
        duration_ms=ms,
        model=result.model,
        tokens_in=result.usage.get("tokens_in"),
        tokens_out=result.usage.get("tokens_out"),
    )
    return result


def _propose(lead, event, qualification: Qualification, criteria: Criteria, workflow: str, asks_for: str = ""):
    rep_name = ""
    if lead.owner_id:
        rep_name = lead.owner.first_name or lead.owner.get_username()
    history = tuple(lead.events.exclude(message="").order_by("received_at", "id").values_list("message", flat=True))
    content = draft_compose(
        lead=lead,
        workflow=workflow,
        rep_name=rep_name or "our team",
        asks_for=asks_for,
        provider=provider_get(),
        conversation=history[-5:],
        voice=criteria.voice,
    )
    if content is None:
        decision_record(
            step=Decision.Step.PROPOSE,
            lead=lead,
            workflow=workflow,
            reasoning="Nothing drafted: no reachable channel or no active template for it.",
            outcome=Decision.Outcome.ESCALATED,
        )
        return None
    reasoning = qualification.reasoning + (f" Asking for the {asks_for.replace('_', ' ')}." if asks_for else "")
    return action_propose(
        lead=lead,
        workflow=workflow,
        content=content,
        confidence=qualification.confidence,
        reasoning=reasoning,
        event=event,
    )


def _respond(lead: Lead, event: InboundEvent, qualification: Qualification, criteria: Criteria) -> Action | None:
    """The first response, or the next clarifying question, or a hand-over to a person; one at a time.

    A lead with missing facts is asked for them one question at a time; each reply is
    re-qualified in the same conversation until it is qualified, ruled out, or the questions run
    out (then a person takes over). A lead already answered gets nothing more from here.
    """
    asked = list(lead.qualification.get("asked", []))
    answered = (
        lead.first_response_at is not None
        or lead.actions.filter(workflow__in=(Workflow.FIRST_RESPONSE, Workflow.CLARIFYING_QUESTION)).exists()
    )
    if answered and not asked:
        return None
    if qualification.status != Status.CLARIFY:
        return None if answered else _propose(lead, event, qualification, criteria, Workflow.FIRST_RESPONSE)
    unasked = [fact for fact in qualification.missing if fact not in asked]
    if not unasked or len(asked) >= criteria.max_questions:
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
    fact = unasked[0]
    lead.qualification = {**lead.qualification, "asked": [*asked, fact]}
    lead.save(update_fields=["qualification", "updated_at"])
    return _propose(lead, event, qualification, criteria, Workflow.CLARIFYING_QUESTION, asks_for=fact)


def process_event(*, event_id: int) -> InboundEvent:
    """Qualify the event's lead, route it if it has no owner, and propose a first response.

    The lead row is locked for the whole step, so two events of one lead are processed one
    after the other; an event already processed is left alone (safe to run twice).
    """
    with transaction.atomic():
        # Only the lead's id is needed here: its row lock is taken before the event's.
        lead_id = InboundEvent.objects.values_list("lead_id", flat=True).get(pk=event_id)
        lead = Lead.objects.select_for_update(of=("self",)).select_related("owner").get(pk=lead_id)
        event = InboundEvent.objects.select_for_update().get(pk=event_id)
        if event.processed_at is not None:
            return event
        enriched = lead_enrich(lead)
        if enriched:
            lead.save(update_fields=[*enriched, "updated_at"])
        criteria = criteria_active()
        qualification = _lead_qualify(lead, event, criteria)
        if qualification.intent not in NOISE_INTENTS:
            if lead.owner_id is None:
                facts = lead_facts(lead, qualification.as_dict(), event)
                if lead_route(lead=lead, facts=facts) is not None:
                    lead.refresh_from_db(fields=["owner"])
            _respond(lead, event, qualification, criteria)
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at"])
    logger.info("event.processed", extra={"event_id": event_id, "lead_id": lead.pk, "intent": qualification.intent})
    return event
