"""What-if before it's live: simulate one event, or replay stored leads against edited rules. Stores nothing."""

import copy
from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone

from approvals.services import policy_outcome
from leads.choices import NOISE_INTENTS
from leads.models import InboundEvent, Lead
from leads.selectors import lead_get_by_contact
from leads.services import FILLABLE_FIELDS, CaptureEvent, capture_clean
from routing import assign, engine
from routing.directory import RoutingConfig, owner_first_name, routing_config
from routing.models import Rep, RoutingRule
from routing.pipeline import draft_for, lead_answered, next_step, qualification_compute
from routing.reasoning import conversation_for, criteria_active
from routing.services import account_owner_find, lead_facts, lead_locate, route_decide, routing_state_read

MAX_REPLAY = 1000


def _rep_label(rep: assign.RepInfo | None) -> dict | None:
    return {"id": rep.id, "name": rep.name, "user": rep.user_id, "team": rep.team_id} if rep else None


def simulate_event(event: CaptureEvent) -> dict:
    """What the pipeline would do with ``event`` now: qualification, rule, rep, reason, first-response policy.

    Runs the same provider, rules, engine and policy as the pipeline, on an unsaved copy of the
    lead it would attach to; no row is written and no lock is taken. Raises ValidationError
    naming bad fields, as capture does.
    """
    phone, email = capture_clean(event)
    existing = lead_get_by_contact(phone=phone, email=email, name=event.name)
    lead = copy.copy(existing) if existing is not None else Lead(phone=phone, email=email)
    for name in FILLABLE_FIELDS:
        if not getattr(lead, name) and getattr(event, name).strip():
            setattr(lead, name, getattr(event, name).strip())
    lead.country = lead.country.upper()
    lead.email_domain = lead.email.rpartition("@")[2].lower() if lead.email else ""
    lead_locate(lead)
    criteria = criteria_active()
    conversation = conversation_for(lead, message=event.message, channel=event.channel)
    qualification, ms = qualification_compute(conversation, criteria)
    lead.score = qualification.score
    answer = {
        "lead": {"existing": existing.pk if existing else None, "region": lead.region, "timezone": lead.timezone},
        "qualification": {**qualification.as_dict(), "duration_ms": ms},
        "route": None,
        "first_response": None,
    }
    if qualification.intent in NOISE_INTENTS:
        answer["route"] = {"rule": None, "rep": None, "reason": f"not routed: intent is {qualification.intent}"}
        return answer
    facts = lead_facts(
        lead,
        qualification.as_dict(),
        InboundEvent(channel=event.channel, source=event.source, message=event.message, payload=event.payload),
    )
    rep_name = ""
    if existing is not None and existing.owner_id:
        rep_name = owner_first_name(existing.owner_id)
        answer["route"] = {"rule": None, "rep": None, "reason": f"already owned by {existing.owner}; not re-routed"}
    else:
        decision = route_decide(lead=lead, facts=facts, lock=False)
        rule = decision.rule
        answer["route"] = {
            "rule": {"id": rule.pk, "name": rule.name} if rule else None,
            "rep": _rep_label(decision.pick.rep),
            "rules_tried": decision.match.tried,
            "reason": decision.reason,
        }
        rep_name = owner_first_name(decision.pick.rep.user_id) if decision.pick.rep else ""
    asked = existing.qualification.get("asked", []) if existing is not None else []
    step = next_step(
        answered=existing is not None and lead_answered(existing),
        asked=asked,
        qualification=qualification,
        criteria=criteria,
    )
    if not step.workflow:
        reason = (
            "handed to a person: the questions ran out" if step.handover else "this lead already has a first response"
        )
        answer["first_response"] = {"outcome": "none", "reason": reason}
        return answer
    draft = draft_for(lead, step, conversation, criteria, rep_name)
    outcome = policy_outcome(
        workflow=step.workflow, confidence=qualification.confidence, gate=draft.gate if draft else ""
    )
    answer["first_response"] = {
        "workflow": step.workflow,
        "asks_for": step.asks_for,
        "policy_mode": outcome.mode,
        "outcome": outcome.status if draft else "none",
        "escalation": outcome.escalation,
        "draft": (
            {
                "kind": draft.kind,
                "to": draft.to,
                "subject": draft.subject,
                "body": draft.body,
                "rewritten_by": draft.rewritten_by,
            }
            if draft
            else None
        ),
        "reason": "" if draft else "no reachable channel or no active template",
    }
    return answer


@dataclass
class Move:
    lead: Lead
    rule_before: str
    rule_after: str
    rep_before: str
    rep_after: str


@dataclass
class ReplayResult:
    leads: int = 0
    per_rep: list[tuple[str, int, int, int]] = field(default_factory=list)  # (rep, now, after, change)
    moves: list[Move] = field(default_factory=list)
    rule_hits: tuple[int, int] = (0, 0)  # leads the edited rule takes: now, after


def _rules_with(config: RoutingConfig, edited: RoutingRule) -> tuple[list[engine.RuleSpec], dict]:
    rules = [r for r in config.rules.values() if r.pk != edited.pk]
    if edited.active:
        rules.append(edited)
    rules.sort(key=lambda r: (r.priority, r.pk or 0))
    compiled = {r.pk: config.compiled[r.pk] for r in rules if r.pk in config.compiled and r is not edited}
    specs = [engine.RuleSpec(id=r.pk or 0, name=r.name, conditions=r.conditions) for r in rules]
    return specs, compiled


def rules_replay(*, edited: RoutingRule, count: int = 200) -> ReplayResult:
    """Route the last ``count`` stored leads under the live rules and under them with ``edited`` in place.

    Both runs start from today's rotation and loads and advance them lead by lead, as production
    would; the difference between the two is what the edit changes. Nothing is written.
    """
    count = max(1, min(count, MAX_REPLAY))
    config = routing_config()
    live_specs = list(config.specs)
    edited_specs, edited_compiled = _rules_with(config, edited)
    leads = list(Lead.objects.order_by("-created_at", "-id")[:count])[::-1]
    latest: dict[int, InboundEvent] = {}
    for event in InboundEvent.objects.filter(lead__in=leads).order_by("received_at", "id"):
        latest[event.lead_id] = event
    rules_by_id = {**config.rules, (edited.pk or 0): edited}
    targets = {rid: rule.target() for rid, rule in rules_by_id.items()}
    every_team = set(config.directory.teams)
    # Loads are read whatever the strategies: capacity caps apply under every one of them.
    states = [routing_state_read(config, every_team, None, lock=False, with_loads=True) for _ in range(2)]
    for state in states:
        state.credits = dict(Rep.objects.values_list("pk", "rotation_credit"))
    now = timezone.now()
    result = ReplayResult(leads=len(leads))
    tallies = [Counter(), Counter()]
    hits = [0, 0]
    for lead in leads:
        facts = lead_facts(lead, lead.qualification or {}, latest.get(lead.pk))
        picks = []
        for i, (specs, compiled) in enumerate(((live_specs, config.compiled), (edited_specs, edited_compiled))):
            match = engine.choose_rule(facts, specs, compiled)
            target = targets.get(match.rule.id) if match.rule else None
            owner = account_owner_find(lead, config) if target is not None and target.by_account_owner else None
            pick = assign.assign(facts, target, config.directory, states[i], now, account_owner_id=owner)
            rule_name = match.rule.name if match.rule else "(no rule)"
            picks.append((rule_name, pick.rep.name if pick.rep else "(unassigned)"))
            tallies[i][picks[-1][1]] += 1
            hits[i] += bool(match.rule and match.rule.id == (edited.pk or 0))
        if picks[0] != picks[1]:
            result.moves.append(Move(lead, picks[0][0], picks[1][0], picks[0][1], picks[1][1]))
    names = sorted(set(tallies[0]) | set(tallies[1]))
    result.per_rep = [(n, tallies[0][n], tallies[1][n], tallies[1][n] - tallies[0][n]) for n in names]
    result.rule_hits = (hits[0], hits[1])
    return result
