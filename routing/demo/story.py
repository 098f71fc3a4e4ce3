"""One lead's way through the demo business, written as the services write it: the pipeline's qualification and
routing, the first answer, a person's decisions and sends, the SLA clock, stages and cadence steps.

Each method mirrors one service (named in its docstring) and adds the same rows, Decisions with the same words,
and the lead's history, at the moments the story gives. Nothing here reads or writes the database but the
snapshots the services themselves read (routing configuration, templates, the cadence book, quiet hours).
"""

import bisect
import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from approvals.models import Workflow
from audit.models import Decision
from leads.choices import Stage, funnel_rank
from leads.models import InboundEvent, Lead
from routing import assign, availability, engine
from routing.demo.clock import Clock
from routing.demo.rows import Rows
from routing.models import Assignment
from routing.services import lead_facts

# How people treat each workflow's drafts: one in REJECTED[workflow] is rejected (in the order people get to them),
# and of the approved ones, counted back from the newest, every EDITED[workflow][0]-th from the [1]-th was edited
# first. Follow-ups are often reworded; reminders almost never, so they earn graduation (95% of the last 200).
REJECTED = {Workflow.FOLLOW_UP: 20, Workflow.FIRST_RESPONSE: 20, Workflow.CLARIFYING_QUESTION: 25}
EDITED = {
    Workflow.FOLLOW_UP: (6, 2),
    Workflow.APPOINTMENT_REMINDER: (40, 25),
    Workflow.REVIEW_REQUEST: (10, 3),
    Workflow.FIRST_RESPONSE: (6, 1),
    Workflow.CLARIFYING_QUESTION: (8, 3),
}
SLA_MINUTES, SLA_HOPS = 15, 2
LOAD_DAYS = 5


@dataclass
class Run:
    """One lead while its story is told: its rows so far and what the story needs to know about its past."""

    lead: Lead
    event: InboundEvent
    baseline: bool
    assignment: Assignment | None = None
    tried: set = field(default_factory=set)
    replies: list = field(default_factory=list)  # when the lead wrote back
    waiting: list = field(default_factory=list)  # actions still pending (cancelled if the lead closes)
    rank: int = 1
    enrollments: list = field(default_factory=list)
    place_zip: str = ""  # the ZIP code of where they live, given or not
    followed: bool = False  # what follows the first answer is planned
    appointment: object = None
    # What happens next, in time order: (when, order, method, arguments); what falls after now never happens.
    agenda: list = field(default_factory=list)


class Business:
    """The demo business's people and configuration, and the rows of every lead it has had."""

    def __init__(
        self, *, clock: Clock, rows: Rows, now: datetime, config, users: dict[int, str], unattended: timedelta
    ):
        self.clock, self.rows, self.now, self.config, self.users = clock, rows, now, config, users
        self.unattended = unattended  # what started waiting this recently is left for the person on duty now
        self.state = assign.RoutingState(loads={rep_id: 0 for rep_id in config.directory.reps})
        # When each rep was last given leads: their open load is about what they were given in LOAD_DAYS.
        self.recent: dict[int, list] = {rep_id: [] for rep_id in config.directory.reps}
        self.counters: dict[str, int] = {}
        self.approvals: list = []  # (action, its APPROVE decision): which came after an edit is settled at the end
        self.sequence = 0

    # -- the agenda -----------------------------------------------------------------------------------------------

    def at(self, run: Run, when: datetime, method, *args) -> None:
        self.sequence += 1
        heapq.heappush(run.agenda, (when, self.sequence, method, args))

    def play(self, run: Run) -> None:
        """Tell the lead's story in time order up to now; a cadence step still ahead stays due (the live sweep runs
        it), every other thing ahead does not happen."""
        while run.agenda:
            when, _, method, args = heapq.heappop(run.agenda)
            if when <= self.now:
                method(run, when, *args)

    # -- helpers ----------------------------------------------------------------------------------------------

    def provider_id(self, channel: str) -> str:
        self.sequence += 1
        token = f"{self.clock.rng.getrandbits(96):024x}"
        return f"SM{token}{self.sequence:08x}" if channel == "sms" else f"<{token}.{self.sequence}@nightshift.example>"

    def snapshot(self, run: Run, when: datetime, reason: str, *, user_id: int | None = None) -> None:
        """A row of the lead's history as a save() writes it: its fields at ``when``."""
        lead = run.lead
        lead.updated_at = when
        fields = {name: getattr(lead, name) for name in HISTORY_FIELDS}
        self.rows.lead_history.append((lead, when, user_id, reason, fields))

    def stage_to(self, run: Run, stage: str) -> str:
        before = run.lead.stage
        run.lead.stage = stage
        run.rank = max(run.rank, funnel_rank(stage))
        run.lead.funnel_rank = run.rank
        return before

    def owner_name(self, run: Run) -> str:
        rep = self.config.directory.reps.get(run.assignment.rep_id) if run.assignment else None
        return rep.name if rep else ""

    def first_name(self, run: Run) -> str:
        return self.config.first_names.get(run.lead.owner_id, "") if run.lead.owner_id else ""

    def rejects(self, workflow: str) -> bool:
        """Whether a person rejects the next draft of ``workflow`` they get to (see REJECTED)."""
        position = self.counters.get(workflow, 0)
        self.counters[workflow] = position + 1
        every = REJECTED.get(workflow)
        return bool(every) and position % every == every // 2

    # -- routing and the SLA (routing.services.lead_route, routing.sla) ------------------------------------------

    def route(self, run: Run, when: datetime, *, kind: str = Assignment.Kind.ROUTE, hop: int = 0) -> Assignment | None:
        """``lead_route``: the rules and the assignment strategy (the real engine), an Assignment, the owner."""
        lead = run.lead
        facts = lead_facts(lead, lead.qualification, run.event)
        match = engine.choose_rule(facts, self.config.specs, self.config.compiled)
        rule = self.config.rules.get(match.rule.id) if match.rule else None
        target = rule.target() if rule is not None else None
        directory = self.config.directory
        since = when - timedelta(days=LOAD_DAYS)
        for rep_id, given in self.recent.items():
            self.state.loads[rep_id] = bisect.bisect_right(given, when) - bisect.bisect_left(given, since)
        pick = assign.assign(facts, target, directory, self.state, when, exclude=frozenset(run.tried))
        if pick.rep is None:
            return None
        reason = f"{match.explanation} → {pick.reason}"
        clock = availability.sla_clock(pick.rep, when, SLA_MINUTES)
        assignment = self.rows.add(
            Assignment(
                lead=lead,
                rep_id=pick.rep.id,
                rule=rule,
                kind=kind,
                reason=reason,
                hop=hop,
                sla_due_at=clock.due_at,
                created_at=when,
            )
        )
        run.assignment = assignment
        run.tried.add(pick.rep.id)
        bisect.insort(self.recent[pick.rep.id], when)
        # The minute sweep finds a deadline passed within its minute.
        self.at(run, self.clock.seconds(clock.due_at, 1, 59), self.sla_passed, assignment)
        lead.owner_id = pick.rep.user_id
        self.rows.decision(
            when,
            step=Decision.Step.ROUTE,
            lead=lead,
            reasoning=reason,
            output={
                "rule": rule,
                "rules_tried": match.tried,
                "kind": kind,
                "hop": hop,
                "rep": pick.rep.id,
                "user": pick.rep.user_id,
                "sla_starts_at": clock.starts_at.isoformat(),
                "sla_due_at": clock.due_at.isoformat(),
            },
            duration_ms=round(self.clock.rng.uniform(0.4, 6), 3),
        )
        return assignment

    def sla_passed(self, run: Run, when: datetime, assignment: Assignment) -> None:
        """``sla_sweep``: an assignment whose first-touch deadline passed untouched is breached."""
        if run.assignment is assignment and assignment.sla_due_at is not None and run.lead.first_touch_at is None:
            self._breach(run, when)

    def _breach(self, run: Run, when: datetime) -> None:
        """``routing.sla._breach_handle``: the breach, a reassignment while hops remain, the managers told."""
        assignment = run.assignment
        assignment.breached_at, assignment.sla_due_at = when, None
        steps = [f"SLA breached: {self.owner_name(run)} did not touch the lead within {SLA_MINUTES} min"]
        new = None
        if assignment.hop < SLA_HOPS:
            new = self.route(run, when, kind=Assignment.Kind.SLA, hop=assignment.hop + 1)
            steps.append(f"reassigned to {self.owner_name(run)}" if new else "nobody else can take it")
            if new is not None:
                self.snapshot(run, when, f"Reassigned after an SLA breach to {self.owner_name(run)}")
        else:
            steps.append(f"{assignment.hop} reassignments already (team max {SLA_HOPS})")
            names = ", ".join(rep.name for rep in self.config.directory.reps.values())
            steps.append(f"can take it now: {names} (no working hours set: always on shift)")
        steps.append("managers alerted (manager@example.com)")
        self.rows.decision(
            when,
            step=Decision.Step.SLA,
            lead=run.lead,
            reasoning="; ".join(steps),
            output={
                "assignment": assignment,
                "hop": assignment.hop,
                "reassigned_to": new and new.rep_id,
                "alerted": True,
            },
            outcome=Decision.Outcome.ESCALATED,
        )

    def touch(self, run: Run, when: datetime, how: str, user_id: int | None) -> None:
        """``leads.services.lead_touch`` and ``routing.sla.sla_on_first_touch``: the first touch stops the clock."""
        if run.lead.first_touch_at is not None:
            return
        run.lead.first_touch_at, run.sla_due = when, None
        current = run.assignment
        if current is not None:
            current.sla_due_at = None
        minutes = (when - current.created_at).total_seconds() / 60 if current else None
        within = (
            f" ({'within' if minutes <= SLA_MINUTES else 'outside'} the {SLA_MINUTES}-minute SLA)" if current else ""
        )
        who = self.users.get(user_id, "the system")
        self.rows.decision(
            when,
            step=Decision.Step.TOUCH,
            lead=run.lead,
            actor_id=user_id,
            actor_type=Decision.ActorType.PERSON if user_id else Decision.ActorType.SYSTEM,
            reasoning=f"First touch: {how} by {who}"
            + (f", {minutes:.1f} min after assignment" if current else "")
            + within,
            output={"how": how, "minutes_after_assignment": round(minutes, 2) if minutes is not None else None},
        )


CLOSED = (Stage.WON, Stage.LOST, Stage.UNQUALIFIED, Stage.SPAM)
# The lead's fields a history row copies (the rest are the lead's final values, which never change in the story).
HISTORY_FIELDS = (
    "stage", "owner_id", "score", "qualification", "enrichment", "postal_code", "region", "country", "timezone",
    "first_response_at", "first_touch_at", "updated_at",
)  # fmt: skip
