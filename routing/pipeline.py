"""What happens after capture: qualify, route, and propose the first response."""

import logging

from django.db import transaction
from django.utils import timezone

from approvals.drafting import draft_compose
from approvals.models import Action, Workflow
from approvals.services import action_propose
from audit.models import Decision
from audit.services import Stopwatch, decision_record
from integrations.llm import Criteria, Qualification, get_provider
from integrations.llm.base import NOISE_INTENTS
from leads.choices import Stage
from leads.models import InboundEvent, Lead
from routing.models import QualificationCriteria
from routing.selectors import criteria_get_active
from routing.services import lead_facts, lead_locate, lead_route

logger = logging.getLogger(__name__)


def _criteria() -> Criteria:
    row = criteria_get_active()
    if row is None:
        return Criteria()
    return Criteria(
        services=tuple(QualificationCriteria.lines(row.services)),
        service_area=tuple(QualificationCriteria.lines(row.service_area)),
        disqualifiers=tuple(QualificationCriteria.lines(row.disqualifiers)),
        qualify_threshold=row.qualify_threshold,
    )


def qualification_compute(lead: Lead, message: str) -> tuple[Qualification, str, float]:
    """Ask the configured provider about a message; returns the answer, the provider's name and the ms taken."""
    provider = get_provider()
    with Stopwatch() as timer:
        result = provider.qualify(message=message, postal_code=lead.postal_code, criteria=_criteria())
    return result, provider.name, timer.ms


def _lead_qualify(lead: Lead, event: InboundEvent) -> Qualification:
    result, provider_name, ms = qualification_compute(lead, event.message)
    lead.score = result.score
    lead.qualification = result.as_dict()
    changed = ["score", "qualification", *lead_locate(lead)]
    if result.intent == "opt_out":
        lead.opted_out = True
        changed.append("opted_out")
    if lead.stage == Stage.NEW:
        if result.intent == "spam":
            lead.stage = Stage.SPAM
        elif result.intent in NOISE_INTENTS:
            lead.stage = Stage.UNQUALIFIED
        elif result.qualified:
            lead.stage = Stage.QUALIFIED
        changed.append("stage")
    lead._change_reason = f"qualified by the {provider_name} provider"
    lead.save(update_fields=[*changed, "updated_at"])
    decision_record(
        step=Decision.Step.QUALIFY,
        lead=lead,
        actor_type=Decision.ActorType.SYSTEM if provider_name == "rules" else Decision.ActorType.MODEL,
        input_summary=event.message[:500],
        output=result.as_dict(),
        reasoning=result.reasoning,
        confidence=result.confidence,
        duration_ms=ms,
    )
    return result


def _first_response(lead: Lead, event: InboundEvent, qualification: Qualification) -> Action | None:
    already = lead.first_response_at is not None or lead.actions.filter(workflow=Workflow.FIRST_RESPONSE).exists()
    if already:
        return None
    rep_name = ""
    if lead.owner_id:
        rep_name = lead.owner.first_name or lead.owner.get_username()
    content = draft_compose(lead=lead, workflow=Workflow.FIRST_RESPONSE, rep_name=rep_name or "our team")
    if content is None:
        decision_record(
            step=Decision.Step.PROPOSE,
            lead=lead,
            workflow=Workflow.FIRST_RESPONSE,
            reasoning="No first response drafted: no reachable channel or no active template for it.",
            outcome=Decision.Outcome.ESCALATED,
        )
        return None
    return action_propose(
        lead=lead,
        workflow=Workflow.FIRST_RESPONSE,
        content=content,
        confidence=qualification.confidence,
        reasoning=qualification.reasoning,
        event=event,
    )


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
        qualification = _lead_qualify(lead, event)
        if qualification.intent not in NOISE_INTENTS:
            if lead.owner_id is None:
                facts = lead_facts(lead, qualification.as_dict(), event)
                if lead_route(lead=lead, facts=facts) is not None:
                    lead.refresh_from_db(fields=["owner"])
            _first_response(lead, event, qualification)
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at"])
    logger.info("event.processed", extra={"event_id": event_id, "lead_id": lead.pk, "intent": qualification.intent})
    return event
