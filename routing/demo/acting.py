"""Proposing, deciding and sending for the demo's history, as approvals.services and leads.services do them:
the Action as the policy leaves it, a person's approval (edited or not) or rejection, the send and what it changes
on the lead, cancellations, stage changes and logged calls. Same rows, same Decisions, same words."""

from datetime import datetime, timedelta

from approvals.drafting import DraftContent
from approvals.models import FIRST_ANSWER_WORKFLOWS, Action, Reviewer, Workflow
from approvals.services.deciding import edit_distance
from approvals.services.proposing import action_payload
from audit.models import Decision
from leads.choices import Stage
from leads.models import InboundEvent, Message
from routing.demo.catalog import EDIT_TAIL, EDITS, REJECTIONS
from routing.demo.story import CLOSED, EDITED, Business, Run


class Acting(Business):
    # -- proposing, deciding, sending (approvals.services) -------------------------------------------------------

    def propose(
        self,
        run: Run,
        when: datetime,
        *,
        workflow: str,
        content: DraftContent,
        mode: str,
        reasoning: str,
        confidence: float | None = None,
        event: InboundEvent | None = None,
        proposed_by: int | None = None,
        amount=None,
        min_confidence: float = 0.7,
    ) -> Action:
        """``action_propose``: the Action as the workflow's policy leaves it, and its Decision."""
        escalation = ""
        if proposed_by is not None or mode == "auto":
            status = Action.Status.APPROVED
            if proposed_by is None and confidence is not None and confidence < min_confidence:
                status, escalation = Action.Status.PENDING, f"confidence {confidence:.2f} < {min_confidence:.2f}"
        else:
            status = Action.Status.SHADOW if mode == "observe" else Action.Status.PENDING
        action = self.rows.add(
            Action(
                lead=run.lead,
                event=event,
                workflow=workflow,
                kind=content.kind,
                payload=action_payload(content),
                status=status,
                amount=amount,
                confidence=confidence,
                reasoning=reasoning,
                escalated=bool(escalation),
                escalation_reason=escalation,
                review_by=Reviewer.REP,
                proposed_by_id=proposed_by,
                decided_by_id=proposed_by if status == Action.Status.APPROVED else None,
                decided_at=when if status == Action.Status.APPROVED else None,
                created_at=when,
                updated_at=when,
            )
        )
        who = f"{self.users[proposed_by]} wrote it; " if proposed_by is not None else ""
        self.rows.decision(
            when,
            step=Decision.Step.PROPOSE,
            lead=run.lead,
            action=action,
            workflow=workflow,
            actor_id=proposed_by,
            actor_type=Decision.ActorType.PERSON if proposed_by else Decision.ActorType.SYSTEM,
            input_summary=content.body,
            output={"action": action, "kind": content.kind, "status": status, "policy_mode": mode},
            reasoning=f"{who}Policy '{workflow}' is {mode}"
            + (f"; escalated to the lead's rep: {escalation}" if escalation else "."),
            confidence=confidence,
            outcome=Decision.Outcome.ESCALATED if escalation else Decision.Outcome.OK,
        )
        if status == Action.Status.PENDING:
            run.waiting.append(action)
        return action

    def decide(self, run: Run, action: Action, *, pace: str) -> None:
        """A person will get to a pending action (``action_approve``, ``action_reject``): on the lead's agenda.

        What started waiting in the last ``self.unattended`` before the history's end stays waiting: the demo's
        visitor is the person on duty now, and a queue the story emptied would leave them nothing to approve.
        """
        when = self.clock.person(action.created_at, pace)  # drawn either way: the same seed tells the same past
        if action.created_at < self.now - self.unattended:
            self.at(run, when, self.decided, action)

    def decided(self, run: Run, when: datetime, action: Action) -> None:
        """The person's decision, unless the action stopped waiting meanwhile (a stop, a close cancelled it)."""
        if action.status != Action.Status.PENDING:
            return
        user_id = run.lead.owner_id
        username = self.users.get(user_id, "")
        run.waiting.remove(action)
        action.decided_by_id, action.decided_at, action.version = user_id, when, action.version + 1
        if self.rejects(action.workflow):
            reason = self.clock.rng.choice(REJECTIONS)
            action.status, action.rejection_reason, action.updated_at = Action.Status.REJECTED, reason, when
            self.decided_note(when, action, Decision.Step.REJECT, reasoning=reason, output={"status": "rejected"})
            self.rejected(run, when, action)
            return
        action.edit_distance = 0.0
        kind = Action.Kind(action.kind).label.lower()
        approval = self.decided_note(
            when,
            action,
            Decision.Step.APPROVE,
            output={"status": "approved", "edited": False, "edit_distance": 0.0},
            reasoning=f"{username} approved the {kind} unchanged.",
        )
        self.approvals.append((action, approval))
        self.send(run, action, self.clock.seconds(when, 0.2, 1.5))

    def decided_note(self, when: datetime, action: Action, step: str, **fields) -> Decision:
        """A Decision of the person deciding ``action`` (its ``decided_by``), as ``deciding`` records it."""
        return self.rows.decision(
            when,
            step=step,
            lead=action.lead,
            action=action,
            workflow=action.workflow,
            actor_id=action.decided_by_id,
            actor_type=Decision.ActorType.PERSON,
            **fields,
        )

    def edits_apply(self) -> None:
        """Which approvals came after an edit (``_apply_edit``), counted back from the newest of each workflow.

        Graduation reads a workflow's latest decisions, so the edits are placed from the newest back (EDITED): any
        window of them shows the same rate, however the leads' stories interleaved.
        """
        by_workflow: dict[str, list] = {}
        for action, approval in self.approvals:
            by_workflow.setdefault(action.workflow, []).append((action, approval))
        for workflow, approved in by_workflow.items():
            every, first = EDITED.get(workflow, (0, 0))
            if not every:
                continue
            approved.sort(key=lambda pair: (pair[0].created_at, pair[1].created_at), reverse=True)
            for action, approval in approved[first::every]:
                self.edit(action, approval)

    def edit(self, action: Action, approval: Decision) -> None:
        before = action.body
        after = next((before.replace(old, new) for old, new in EDITS if old in before), before + EDIT_TAIL)
        distance = edit_distance(before, after)
        action.edited, action.original_body, action.edit_distance = True, before, distance
        action.payload = {**action.payload, "body": after}
        if getattr(action, "message", None) is not None:
            action.message.body = after
        username = self.users.get(action.decided_by_id, "")
        self.decided_note(
            approval.created_at - timedelta(milliseconds=2),
            action,
            Decision.Step.EDIT,
            input_summary=before,
            output={"body": after, "edit_distance": distance},
            reasoning=f"{username} edited the draft.",
        )
        approval.output = {"status": "approved", "edited": True, "edit_distance": distance}
        kind = Action.Kind(action.kind).label.lower()
        approval.reasoning = f"{username} approved the {kind} after editing (distance {distance:.2f})."

    def rejected(self, run: Run, when: datetime, action: Action) -> None:
        """What follows a rejection (the story's subclass may call the lead instead)."""

    def send(self, run: Run, action: Action, claimed: datetime) -> datetime:
        """``action_execute``: the claim, the outbound Message, the send, and what a send changes on the lead."""
        lead, channel, before = run.lead, action.channel, run.lead.stage
        sent = self.clock.seconds(claimed, 0.15, 0.8)
        action.status, action.attempts, action.updated_at = Action.Status.DONE, 1, sent
        label = Action.Kind(action.kind).label
        ms = round((sent - claimed).total_seconds() * 1000, 3)

        def executed(output: dict, reasoning: str) -> None:
            self.rows.decision(
                sent,
                step=Decision.Step.EXECUTE,
                lead=lead,
                action=action,
                workflow=action.workflow,
                output=output,
                reasoning=reasoning,
                duration_ms=ms,
            )

        if not action.to_lead:  # a task for the team: no Message (``_team_task_complete``)
            pid = self.provider_id("email") if action.kind == Action.Kind.CALL_TASK else "slack-not-configured"
            executed({"provider_id": pid}, f"{label}: {action.body}")
            return sent
        pid = self.provider_id(channel)
        action.message = message = self.rows.add(
            Message(
                lead=lead,
                action=action,
                direction=Message.Direction.OUTBOUND,
                channel=channel,
                to=action.payload.get("to", ""),
                subject=action.payload.get("subject", ""),
                body=action.body,
                status=Message.Status.SENT,
                provider_id=pid,
                message_id=pid if channel == "email" else "",
                sent_at=sent,
                created_at=claimed,
            )
        )
        lead.last_outbound_at = max(lead.last_outbound_at or sent, sent)
        changed = []
        if action.workflow in FIRST_ANSWER_WORKFLOWS and lead.first_response_at is None:
            lead.first_response_at = sent
            changed.append("first_response_at")
        if action.workflow == Workflow.QUOTE and lead.stage in (Stage.NEW, Stage.QUALIFIED, Stage.CONTACTED):
            self.stage_to(run, Stage.QUOTED)
            changed.append("stage")
        elif lead.stage in (Stage.NEW, Stage.QUALIFIED):
            self.stage_to(run, Stage.CONTACTED)
            changed.append("stage")
        if changed:
            self.snapshot(run, sent, f"{label} sent")
        executed({"message": message, "provider_id": pid}, f"{label} handed to the {channel} backend.")
        if action.decided_by_id is not None:
            self.touch(run, sent, f"{label.lower()} sent", action.decided_by_id)
        self.after_send(run, action, sent, before)
        return sent

    def after_send(self, run: Run, action: Action, sent: datetime, before: str) -> None:
        """What a message to the lead sets off (the stage's cadences, ``action.sent``): see the story's subclasses."""

    def cancel(self, run: Run, when: datetime, reason: str, *, only: list | None = None) -> int:
        """``actions_cancel_waiting``: what still waits to go to the lead is cancelled (all, or ``only`` those)."""
        cancelled = 0
        for action in list(run.waiting):
            if action.created_at > when or (only is not None and action not in only):
                continue
            action.status, action.error, action.updated_at = Action.Status.CANCELLED, reason, when
            action.version += 1
            run.waiting.remove(action)
            cancelled += 1
        return cancelled

    def stage_set(self, run: Run, when: datetime, stage: str, user_id: int) -> int:
        """``lead_stage_set`` by a person: closing stages cancel what waits; returns how many were cancelled."""
        before = self.stage_to(run, stage)
        username = self.users[user_id]
        self.snapshot(run, when, f"stage {before} → {stage} by {username}", user_id=user_id)
        cancelled = self.cancel(run, when, f"The lead moved to {Stage(stage).label}.") if stage in CLOSED else 0
        self.rows.decision(
            when,
            step=Decision.Step.STAGE,
            lead=run.lead,
            actor_id=user_id,
            actor_type=Decision.ActorType.PERSON,
            output={"before": before, "stage": stage, "cancelled": cancelled},
            reasoning=f"{username} moved the lead from {Stage(before).label} to {Stage(stage).label}"
            + (f"; {cancelled} waiting action(s) cancelled." if cancelled else "."),
        )
        return cancelled

    def call_logged(self, run: Run, when: datetime, user_id: int, note: str) -> None:
        """``lead_call_log``: a call a person made, on the timeline, as their touch."""
        self.rows.add(
            Message(
                lead=run.lead,
                direction=Message.Direction.OUTBOUND,
                channel="call",
                to=run.lead.phone,
                body=note,
                status=Message.Status.SENT,
                sent_at=when,
                created_at=when,
            )
        )
        run.lead.last_outbound_at = max(run.lead.last_outbound_at or when, when)
        self.touch(run, when, "call logged", user_id)
