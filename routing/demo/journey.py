"""A demo lead from its first word to its fate: who they are, what capture and the pipeline store (enrichment, the
model's qualification, routing), the first answer or the call, and what the story plans next.

Before automation (``Run.baseline``) every answer waits for a rep, missed calls are only watched (the missed-call
workflow observes) and no cadence runs; after it, answers and text-backs go in seconds and cadences follow up.
"""

import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings

from approvals.drafting import draft_compose
from approvals.models import Action, Workflow
from audit.models import Decision
from integrations.enrichment import LEAD_COLUMNS, ContactFacts, PhoneNumberEnricher
from integrations.llm import Conversation
from integrations.llm.base import Status
from integrations.llm.rules import RulesProvider
from leads import geo
from leads.choices import Channel, Stage
from leads.models import InboundEvent, Lead, Message
from routing.demo import catalog
from routing.demo.following import Following
from routing.demo.rows import MARK
from routing.demo.story import Run
from routing.reasoning import criteria_active
from routing.services import noise_stage

ANSWERS = (Workflow.FIRST_RESPONSE, Workflow.CLARIFYING_QUESTION, Workflow.MISSED_CALL)
BUSINESS_LINE = "+15125550100"
FIRST_MIN_CONFIDENCE = 0.6  # the managers' threshold for automatic answers, from automation on


class Story(Following):
    """Tells each lead's story (:meth:`lead`) into the shared rows."""

    def __init__(self, *, emails: dict[int, str], taken: set[str], **kwargs):
        super().__init__(**kwargs)
        self.emails, self.taken = emails, taken
        self.cadences_load()
        self.provider, self.criteria = RulesProvider(), criteria_active()
        self.judged: dict[tuple, object] = {}
        self.phone_facts: dict[str, dict] = {}
        self.replied_events = 0

    # -- who writes, and what capture stores ---------------------------------------------------------------------

    def lead(self, number: int, arrived: datetime, baseline: bool) -> None:
        rng = self.clock.rng
        channel, source = rng.choices([(c, s) for c, s, _ in catalog.DOORS], [w for *_, w in catalog.DOORS])[0]
        spanish = channel != "call" and rng.random() < 0.06
        noise = channel != "call" and not spanish and rng.random() < 0.1
        pool = catalog.NOISE_MESSAGES if noise else catalog.SPANISH_MESSAGES if spanish else catalog.SALES_MESSAGES
        text = catalog.CALL_MESSAGE if channel == "call" else rng.choices(*zip(*pool, strict=True))[0]
        lead, phone_as_typed, place_zip = self.person(number, channel, spanish)
        postal_code = place_zip if channel in catalog.ASKS_ZIP and rng.random() < 0.9 else ""
        lead.postal_code, lead.created_at, lead.updated_at = postal_code, arrived, arrived
        lead.channel, lead.source = channel, source
        token = f"{rng.getrandbits(128):032x}"
        payload = {"CallSid": f"CA{token}", "From": lead.phone, "To": BUSINESS_LINE} if channel == "call" else {}
        processed = self.clock.seconds(arrived, 0.6, 2.5)
        event = self.rows.add(
            InboundEvent(
                lead=self.rows.add(lead),
                channel=channel,
                source=source,
                external_id=f"{MARK}{number}",
                name=lead.name,
                email=lead.email,
                phone=phone_as_typed,
                postal_code=postal_code,
                message=text,
                payload=payload,
                received_at=arrived,
                lead_created=True,
                processed_at=processed,
                created_at=arrived,
            )
        )
        run = Run(lead=lead, event=event, baseline=baseline)
        run.place_zip, run.followed, run.appointment = place_zip, False, None
        qualification = self.qualify(run, processed, text, channel)
        if lead.stage in (Stage.SPAM, Stage.UNQUALIFIED):
            self.snapshot(run, processed, "qualified by the openai provider")
            return
        routed = self.clock.seconds(processed, 0.002, 0.01)
        self.route(run, routed)
        self.snapshot(run, routed, f"qualified by the openai provider; routed to {self.owner_name(run)}")
        if channel == Channel.CALL:
            self.call(run, arrived)
        else:
            self.answer(run, self.clock.seconds(routed, 0.005, 0.03), qualification)
        self.at(run, arrived + timedelta(days=21), self.unanswered)
        self.play(run)

    def person(self, number: int, channel: str, spanish: bool) -> tuple[Lead, str, str]:
        """Someone who writes through ``channel``: the Lead as capture creates it, the phone as they typed it, and
        their ZIP code (given or not)."""
        rng = self.clock.rng
        first = rng.choice(catalog.SPANISH_FIRST if spanish else catalog.FIRST_NAMES)
        last = rng.choice(catalog.SPANISH_LAST if spanish else catalog.LAST_NAMES)
        places = [p for p in catalog.PLACES if p[0] == "US-TX"] if spanish else catalog.PLACES
        _, areas, zips = rng.choice(places)
        phone_share, email_share = catalog.CONTACT[channel]
        has_phone = rng.random() < phone_share
        has_email = rng.random() < email_share or not has_phone
        # 555-2000 on: clear of the demo's own numbers (555-0100 and up) and of the README's examples.
        exchange, line = 555 + number // 8000, 2000 + number % 8000
        phone = f"+1{rng.choice(areas)}{exchange}{line:04d}" if has_phone else ""
        ascii_name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode().lower()
        email = f"{ascii_name}{number}@example.{rng.choice(('com', 'net', 'org'))}" if has_email else ""
        phone, email = ("" if phone in self.taken else phone), ("" if email in self.taken else email)
        named = channel not in ("call", "sms") or rng.random() < 0.2
        # As capture saves it: a new lead is at the funnel's first stage, its email's domain kept beside it.
        lead = Lead(
            name=f"{first} {last}" if named else "",
            phone=phone,
            email=email,
            email_domain=email.rpartition("@")[2],
            funnel_rank=1,
        )
        typed = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}" if phone and channel in ("form", "chat") else phone
        return lead, typed, rng.choice(zips)

    def qualify(self, run: Run, when: datetime, text: str, channel: str, earlier: tuple = (), intent_before: str = ""):
        """The pipeline's store step: the model's qualification (scored by the rules' reading of the same words),
        the lead's place from its ZIP, the phone's facts (enrichment), each with its Decision."""
        lead, rng = run.lead, self.clock.rng
        key = (text, lead.postal_code, channel, earlier, intent_before)
        if key not in self.judged:
            conversation = Conversation(
                message=text,
                history=earlier,
                postal_code=lead.postal_code,
                channel=channel,
                intent_before=intent_before,
            )
            self.judged[key] = self.provider.qualify(conversation, self.criteria)
        ms = round(rng.lognormvariate(6.8, 0.35), 1)
        usage = {
            "tokens_in": 520 + len(text) // 3 + rng.randint(0, 240),
            "tokens_out": rng.randint(55, 140),
            "latency_ms": ms,
            "attempts": 1,
            "mode": "json_schema",
        }
        result = replace(self.judged[key], provider="openai", model=settings.LLM_MODEL, usage=usage)
        asked = (lead.qualification or {}).get("asked", [])
        lead.score, lead.qualification = result.score, {**result.as_dict(), "asked": asked}
        if result.postal_code and not lead.postal_code:
            lead.postal_code = result.postal_code
        if lead.stage in (Stage.NEW, Stage.CONTACTED):
            stage = Stage.QUALIFIED if result.status == Status.QUALIFIED else noise_stage(result.intent)
            if stage:
                self.stage_to(run, stage)
        if lead.postal_code and not lead.region:
            place = geo.location_for(lead.postal_code, lead.country)
            for name in ("region", "country", "timezone"):
                if getattr(place, name) and not getattr(lead, name):
                    setattr(lead, name, getattr(place, name))
        self.enrich(run, when)
        self.rows.decision(
            when,
            step=Decision.Step.QUALIFY,
            lead=lead,
            actor_type=Decision.ActorType.MODEL,
            input_summary=text[:500],
            output=result.as_dict(),
            reasoning=result.reasoning,
            confidence=result.confidence,
            duration_ms=ms,
            model=result.model,
            tokens_in=usage["tokens_in"],
            tokens_out=usage["tokens_out"],
        )
        return result

    def enrich(self, run: Run, when: datetime) -> None:
        """``_enrichment_apply`` with the phone's numbering-plan facts (the offline enricher)."""
        lead = run.lead
        if not lead.phone:
            return
        prefix = lead.phone[:8]
        if prefix not in self.phone_facts:
            found = PhoneNumberEnricher().enrich(ContactFacts(phone=lead.phone, email="", postal_code="", country=""))
            self.phone_facts[prefix] = {k: {"value": v, "source": PhoneNumberEnricher.source} for k, v in found.items()}
        new = {k: v for k, v in self.phone_facts[prefix].items() if (lead.enrichment or {}).get(k) != v}
        if not new:
            return
        lead.enrichment = {**(lead.enrichment or {}), **new}
        filled = []
        for name in LEAD_COLUMNS:
            value = new.get(name, {}).get("value", "")
            if value and not getattr(lead, name):
                setattr(lead, name, value)
                filled.append(name)
        self.rows.decision(
            when,
            step=Decision.Step.ENRICH,
            lead=lead,
            output={"found": new, "filled": filled, "errors": []},
            reasoning="; ".join(f"{k} = {v['value']} (from {v['source']})" for k, v in new.items()),
            duration_ms=round(self.clock.rng.uniform(0.15, 0.6), 3),
        )

    # -- the first answer ----------------------------------------------------------------------------------------

    def answer(self, run: Run, when: datetime, qualification) -> None:
        """``_respond``: the first response, or the question for what is missing; automatic after automation."""
        lead = run.lead
        clarify = qualification.status == Status.CLARIFY and qualification.missing
        workflow = Workflow.CLARIFYING_QUESTION if clarify else Workflow.FIRST_RESPONSE
        asks = qualification.missing[0] if clarify else ""
        content = draft_compose(lead=lead, workflow=workflow, rep_name=self.first_name(run), asks_for=asks)
        if content is None:
            return
        if asks:
            lead.qualification = {**lead.qualification, "asked": [asks]}
        action = self.propose(
            run,
            when,
            workflow=workflow,
            content=content,
            mode="draft" if run.baseline else "auto",
            reasoning=qualification.reasoning + (f" Asking for the {asks.replace('_', ' ')}." if asks else ""),
            confidence=qualification.confidence,
            event=run.event,
            min_confidence=FIRST_MIN_CONFIDENCE,
        )
        if action.status == Action.Status.APPROVED:
            self.send(run, action, self.clock.seconds(when, 0.003, 0.04))
        elif not run.baseline or self.clock.rng.random() > 0.1:  # before automation a few drafts were never seen
            self.decide(run, action, pace="slow" if run.baseline else "quick")
        if not run.baseline and self.clock.rng.random() < 0.75:
            self.at(run, self.clock.person(when, "fast"), self.accept)

    def accept(self, run: Run, when: datetime) -> None:
        """The owner takes the lead on in the portal (``lead_accept``): their first touch."""
        if run.lead.first_touch_at is None:
            self.touch(run, when, "accepted in the portal", run.lead.owner_id)

    def call(self, run: Run, when: datetime) -> None:
        """A phone call (``routing.voice``): answered by the rep rung, or missed and texted back (after automation),
        only watched (before it), sometimes called back by a rep."""
        rng, lead = self.clock.rng, run.lead
        answered = rng.random() < (0.55 if self.clock.is_open(when) else 0.08)
        call = self.rows.add(
            Message(
                lead=lead,
                direction=Message.Direction.INBOUND,
                channel=Channel.CALL,
                to=BUSINESS_LINE,
                body="Inbound call",
                status=Message.Status.RECEIVED,
                provider_id=run.event.payload["CallSid"],
                created_at=self.clock.seconds(when, 0.3, 1.0),
            )
        )
        if answered:
            minutes = rng.uniform(1.5, 9)
            ended = when + timedelta(seconds=12 + minutes * 60)
            call.body, call.sent_at = f"Answered call, {minutes:.1f} min", ended
            if lead.first_response_at is None:  # as routing.voice: picked up after 12 s of ringing
                lead.first_response_at = when + timedelta(seconds=12)
            self.touch(run, ended, "answered the call", run.lead.owner_id)
            self.at(run, self.clock.seconds(ended, 60, 400), self.talked)
            return
        ended = self.clock.seconds(when, 22, 30)
        voicemail = rng.random() < 0.5
        call.status = Message.Status.MISSED
        call.body = "Missed call (no-answer)" + (f"\nVoicemail, {rng.randint(6, 48)} s" if voicemail else "")
        content = draft_compose(lead=lead, workflow=Workflow.MISSED_CALL, rep_name=self.first_name(run))
        if content is not None:
            action = self.propose(
                run,
                ended,
                workflow=Workflow.MISSED_CALL,
                content=content,
                mode="observe" if run.baseline else "auto",
                reasoning="The caller rang and nobody answered: text them back at once.",
                event=run.event,
            )
            if action.status == Action.Status.APPROVED:
                self.send(run, action, self.clock.seconds(ended, 0.2, 1.5))
        if run.baseline:
            if rng.random() < 0.45:
                self.at(run, self.clock.person(ended, "slow"), self.call_back)
        elif rng.random() < 0.7:
            self.at(run, self.clock.person(ended, "fast"), self.accept)

    def call_back(self, run: Run, when: datetime) -> None:
        note = self.clock.rng.choice(catalog.CALL_NOTES)
        self.call_logged(run, when, run.lead.owner_id, note)
        if note.startswith("Talked"):
            self.followed(run, when, talked=True)

    def talked(self, run: Run, when: datetime) -> None:
        """After a call with the lead the rep files it as qualified; what comes next is planned."""
        self.stage_set(run, when, Stage.QUALIFIED, run.lead.owner_id)
        self.followed(run, when, talked=True)

    def rejected(self, run: Run, when: datetime, action: Action) -> None:
        if action.workflow in ANSWERS:  # the rep answered by phone instead
            self.at(run, self.clock.seconds(when, 60, 900), self.call_back)

    def after_send(self, run: Run, action: Action, sent: datetime, before: str) -> None:
        super().after_send(run, action, sent, before)
        if action.workflow in ANSWERS:
            self.followed(run, sent)

    # -- what comes next --------------------------------------------------------------------------------------------

    def followed(self, run: Run, when: datetime, *, talked: bool = False) -> None:
        """Once the lead has had its answer: whether they write back, and where that leads."""
        if run.followed:
            return
        run.followed = True
        rng = self.clock.rng
        if talked:
            self.plan(run, when)
            return
        waited = (when - run.lead.created_at).total_seconds() / 60
        chance = 0.72 if waited <= 5 else 0.55 if waited <= 60 else 0.4 if waited <= 360 else 0.28
        if rng.random() < chance:
            minutes = min(max(rng.lognormvariate(3.2, 1.2), 1), 36 * 60)
            self.at(run, when + timedelta(minutes=minutes), self.wrote_back)
        elif rng.random() < (0.7 if run.baseline else 0.6):
            self.at(run, self.later(when, 6, 20), self.close, Stage.LOST)

    def wrote_back(self, run: Run, when: datetime) -> None:
        lead = run.lead
        zip_code = lead.postal_code or run.place_zip
        text = self.clock.rng.choice(catalog.REPLIES).format(zip=zip_code)
        channel = Channel.SMS if lead.phone else Channel.EMAIL
        self.reply(run, when, text, channel, postal_code=zip_code if not lead.postal_code else "")
        self.plan(run, when)

    def requalify(self, run: Run, event: InboundEvent) -> None:
        """The pipeline on a known lead's message: qualified again in its conversation, no new owner, no answer."""
        before = run.lead.stage
        first = run.event.message
        when = event.processed_at
        self.qualify(run, when, event.message, event.channel, (first,), run.lead.qualification.get("intent", ""))
        self.snapshot(run, when, "qualified by the openai provider")
        self.stage_changed(run, when, before, "nightshift")

    def plan(self, run: Run, engaged: datetime) -> None:
        """Where an engaged lead goes: a quote, an appointment, won or lost, or nowhere yet."""
        rng, baseline = self.clock.rng, run.baseline
        draw = rng.random()
        if draw < (0.5 if baseline else 0.62):
            quoted = self.clock.person(engaged + timedelta(hours=rng.uniform(2, 30)), "slow" if baseline else "quick")
            self.at(run, quoted, self.quote)
            after = rng.random()
            booking = 0.28 if baseline else 0.45
            if after < booking:
                self.at(run, self.later(quoted, 1, 6), self.booked)
            elif after < booking + 0.08:
                self.at(run, self.later(quoted, 2, 8), self.close, Stage.WON)
            elif after < booking + 0.3 or rng.random() < 0.6:
                self.at(run, self.later(quoted, 3, 25), self.close, Stage.LOST)
        elif draw < (0.62 if baseline else 0.74):
            self.at(run, self.later(engaged, 0.2, 3), self.booked)
        elif rng.random() < 0.65:
            self.at(run, self.later(engaged, 6, 20), self.close, Stage.LOST)

    def booked(self, run: Run, when: datetime) -> None:
        self.book(run, when)
        if run.appointment is not None:
            outcome = Stage.WON if self.clock.rng.random() < 0.6 else Stage.LOST
            self.at(run, self.later(run.appointment.starts_at, 0.05, 2), self.close, outcome)

    def unanswered(self, run: Run, when: datetime) -> None:
        """Three weeks on, a lead nobody answered (a draft never seen) is given up as lost."""
        lead = run.lead
        forgotten = not run.followed and lead.first_response_at is None and lead.stage not in (Stage.WON, Stage.LOST)
        if forgotten and (run.waiting or lead.channel != Channel.CALL):
            self.close(run, self.clock.next_open(when), Stage.LOST)
