"""What happens to a demo lead after the first answer, as the services do it: its replies, a quote, an appointment,
won or lost, and the cadences those start and stop (routing.cadences: triggers, the sweep's steps, stops)."""

from datetime import datetime, timedelta

from django.conf import settings

from approvals.drafting import DraftContent, channel_for
from approvals.models import Action, Workflow
from approvals.sms import sms_text
from approvals.templating import render_text
from audit.models import Decision
from leads.choices import Channel, Stage
from leads.models import Appointment, InboundEvent, Message
from routing import timing
from routing.cadences.book import BOOK, Rules, lead_tz, local_text, step_due, step_slot
from routing.demo.acting import Acting
from routing.demo.catalog import LOCATIONS, QUOTES
from routing.demo.story import Run
from routing.models import Cadence, CadenceStep, Enrollment, StepRun

GONE_QUIET, QUOTE_FOLLOW_UP, REMINDERS, REVIEW = (
    "Gone quiet",
    "Quote follow-up",
    "Appointment reminders",
    "Review request",
)


class Following(Acting):
    """Cadences and the later life of a lead, on the lead's agenda (routing.demo.story.Business.play)."""

    def cadences_load(self) -> None:
        self.rules = Rules()
        self.cadences = {cadence.name: (cadence, steps) for cadence, steps in BOOK.get().cadences.values()}

    # -- enrollments (routing.cadences.enrollment, book, sweep) --------------------------------------------------

    def enroll(self, run: Run, when: datetime, name: str, trigger: str, *, appointment=None, user_id=None) -> None:
        """``enrollment_create``: the lead in the cadence, its first step scheduled, a line on the timeline."""
        found = self.cadences.get(name)
        if found is None or not found[0].active or not found[1] or run.lead.opted_out:
            return
        cadence, steps = found
        enrollment = self.rows.add(
            Enrollment(
                cadence=cadence,
                lead=run.lead,
                appointment=appointment,
                started_at=when,
                trigger=trigger,
                enrolled_by_id=user_id,
                created_at=when,
                updated_at=when,
            )
        )
        enrollment.actions, enrollment.step_runs = [], []
        if appointment is not None:
            while enrollment.position < len(steps) and self.step_due(enrollment, cadence, steps) < when:
                enrollment.position += 1
        self.step_schedule(run, enrollment, when)
        run.enrollments.append(enrollment)
        first = enrollment.next_run_at
        self.rows.decision(
            when,
            step=Decision.Step.CADENCE,
            lead=run.lead,
            workflow=cadence.workflow,
            actor_id=user_id,
            actor_type=Decision.ActorType.PERSON if user_id else Decision.ActorType.SYSTEM,
            output={"enrollment": enrollment, "cadence": cadence, "next_run_at": first and first.isoformat()},
            reasoning=f"Enrolled in '{cadence}' ({trigger}); "
            + (f"first step {local_text(first, run.lead)}." if first else "no step ahead."),
        )

    def step_due(self, enrollment: Enrollment, cadence: Cadence, steps: list[CadenceStep]) -> datetime:
        step = steps[enrollment.position]
        if enrollment.appointment is not None:
            tz = lead_tz(enrollment.lead)
            starts = enrollment.appointment.starts_at
            unit, holidays = step.delay_unit, self.rules.holidays
            return timing.offset(starts, delay=step.delay, unit=unit, tz=tz, holidays=holidays, before=True)
        return step_due(enrollment, cadence, step, self.rules)

    def step_schedule(self, run: Run, enrollment: Enrollment, when: datetime) -> None:
        """``step_schedule``: the next step's slot (quiet hours on the lead's clock), or the enrollment completed."""
        cadence, steps = self.cadences[enrollment.cadence.name]
        if enrollment.position >= len(steps):
            enrollment.status, enrollment.next_run_at, enrollment.ended_at = Enrollment.Status.COMPLETED, None, when
            enrollment.updated_at = when
            return
        step = steps[enrollment.position]
        due = max(self.step_due(enrollment, cadence, steps), when)
        enrollment.next_run_at = step_slot(due, run.lead, step, self.rules)
        # The minute sweep picks it up within its minute.
        self.at(run, self.clock.seconds(enrollment.next_run_at, 2, 58), self.step_run, enrollment)

    def step_run(self, run: Run, when: datetime, enrollment: Enrollment) -> None:
        """The sweep's ``_step_run``: propose the due step, or skip it, then move on."""
        if enrollment.status != Enrollment.Status.ACTIVE:
            return
        cadence, steps = self.cadences[enrollment.cadence.name]
        step, lead = steps[enrollment.position], run.lead
        # ``_stop_now``: a stop the events should already have made (a 'no reply' cadence started on a closed lead).
        if lead.stage in cadence.stop_stage_list:
            self.end(run, when, enrollment, Enrollment.StopKind.STAGE, f"The lead is {Stage(lead.stage).label}.")
            return
        if cadence.stop_on_reply and any(r > enrollment.started_at for r in run.replies):
            self.end(run, when, enrollment, Enrollment.StopKind.REPLY, "The lead replied.")
            return
        skip = ""
        if enrollment.appointment is not None and when >= enrollment.appointment.starts_at:
            skip = "the appointment has already begun"
        elif step.only_if_stage and lead.stage != step.only_if_stage:
            skip = f"the lead is no longer {Stage(step.only_if_stage).label}"
        elif step.only_if_no_reply and any(r > enrollment.started_at for r in run.replies):
            skip = "the lead has replied"
        content = skip or self.step_content(run, enrollment, cadence, step)
        position = enrollment.position
        if isinstance(content, str):
            step_run = StepRun(enrollment=enrollment, step=step, position=position, status="skipped", reason=content)
            enrollment.step_runs.append(self.rows.add(step_run))
            step_run.created_at = when
            self.rows.decision(
                when,
                step=Decision.Step.CADENCE,
                lead=lead,
                workflow=cadence.workflow,
                output={"enrollment": enrollment, "position": position},
                reasoning=f"'{cadence}' step {position + 1} skipped: {content}.",
                outcome=Decision.Outcome.SKIPPED,
            )
        else:
            action = self.propose(
                run,
                when,
                workflow=cadence.workflow,
                content=content,
                mode="draft",
                reasoning=f"Cadence '{cadence}', step {position + 1} of {len(steps)} "
                f"({step.when}, {step.get_channel_display().lower()}).",
            )
            enrollment.actions.append(action)
            step_run = StepRun(enrollment=enrollment, step=step, position=position, status="proposed", action=action)
            enrollment.step_runs.append(self.rows.add(step_run))
            step_run.created_at = when
            # A reminder is approved in the minutes it is due (it is worthless after the appointment).
            self.decide(run, action, pace="fast" if enrollment.appointment is not None else "quick")
        enrollment.position += 1
        enrollment.updated_at = when
        self.step_schedule(run, enrollment, when)

    def step_content(self, run: Run, enrollment: Enrollment, cadence: Cadence, step: CadenceStep):
        """The sweep's ``_content``: the step's message, or why it cannot reach anyone."""
        lead = run.lead
        rep_name = self.first_name(run)
        variables = {"first_name": lead.first_name, "rep_name": rep_name, "business_name": settings.BUSINESS_NAME}
        variables["link"] = cadence.link
        if enrollment.appointment is not None:
            starts = enrollment.appointment.starts_at.astimezone(lead_tz(lead))
            variables["appointment_time"] = f"{starts:%A %B %-d at %-I:%M %p}"
            variables["appointment_location"] = enrollment.appointment.location
        if step.channel == CadenceStep.Channel.SMS:
            if not lead.phone:
                return "the lead has no phone number we may text"
            body = sms_text(step.template.render(**variables), lead=lead, rep_name=rep_name)
            return DraftContent(kind=Action.Kind.SEND_SMS, to=lead.phone, body=body, template_id=step.template_id)
        if step.channel == CadenceStep.Channel.EMAIL:
            if not lead.email:
                return "the lead has no email address"
            subject = step.template.render_subject(**variables) or f"From {settings.BUSINESS_NAME}"
            return DraftContent(
                kind=Action.Kind.SEND_EMAIL,
                to=lead.email,
                body=step.template.render(**variables),
                subject=subject,
                template_id=step.template_id,
            )
        text = render_text(step.note, variables)
        if step.channel == CadenceStep.Channel.CALL:
            to = self.emails.get(lead.owner_id, "")
            return DraftContent(kind=Action.Kind.CALL_TASK, to=to, body=text, subject=f"Call {lead}")
        return DraftContent(kind=Action.Kind.SLACK_NUDGE, to="slack", body=text)

    def stop(self, run: Run, when: datetime, kind: str, reason: str, where) -> None:
        """``lead_cadences_stop``: the running enrollments ``where`` accepts end."""
        for enrollment in run.enrollments:
            if enrollment.status == Enrollment.Status.ACTIVE and where(enrollment.cadence):
                self.end(run, when, enrollment, kind, reason)

    def end(self, run: Run, when: datetime, enrollment: Enrollment, kind: str, reason: str) -> None:
        """``enrollment_end_noted``: the enrollment stops, what it had waiting is withdrawn, the timeline says so."""
        enrollment.status, enrollment.stop_kind, enrollment.stop_reason = Enrollment.Status.STOPPED, kind, reason
        enrollment.next_run_at, enrollment.ended_at, enrollment.updated_at = None, when, when
        cancelled = self.cancel(run, when, reason, only=enrollment.actions)
        self.rows.decision(
            when,
            step=Decision.Step.CADENCE,
            lead=run.lead,
            workflow=enrollment.cadence.workflow,
            output={"enrollment": enrollment, "stop": kind, "cancelled": cancelled},
            reasoning=f"'{enrollment.cadence}' stopped: {reason}"
            + (f" {cancelled} waiting action(s) cancelled." if cancelled else ""),
            outcome=Decision.Outcome.SKIPPED,
        )

    def running(self, run: Run, name: str) -> bool:
        return any(e.cadence.name == name and e.status == Enrollment.Status.ACTIVE for e in run.enrollments)

    def after_send(self, run: Run, action: Action, sent: datetime, before: str) -> None:
        """``lead_stage_changed`` and ``cadences_on_sent``: our message went out; 'no reply' cadences start their
        clock (after automation), unless that cadence sent it itself."""
        self.stage_changed(run, sent, before, "nightshift")
        if run.baseline:
            return
        when = self.clock.seconds(sent, 0.002, 0.02)
        if any(action in e.actions for e in run.enrollments if e.cadence.name == GONE_QUIET):
            cadence = self.cadences[GONE_QUIET][0]
            self.rows.decision(
                when,
                step=Decision.Step.CADENCE,
                lead=run.lead,
                workflow=cadence.workflow,
                output={"cadence": cadence, "action": action},
                reasoning=f"Not started again: '{cadence}' sent this message itself (it would re-trigger forever).",
                outcome=Decision.Outcome.SKIPPED,
            )
        elif not self.running(run, GONE_QUIET):
            self.enroll(run, when, GONE_QUIET, "no reply 48 h after our message")

    def stage_changed(self, run: Run, when: datetime, before: str, by: str) -> None:
        """``cadences_on_stage``: cadences the new stage ends stop, those it begins start."""
        stage = run.lead.stage
        if stage == before:
            return
        label = Stage(stage).label
        self.stop(run, when, "stage", f"The lead moved to {label}.", lambda cadence: stage in cadence.stop_stage_list)
        if run.baseline:
            return
        for name, (cadence, _) in self.cadences.items():
            if cadence.trigger == Cadence.Trigger.STAGE_ENTERED and cadence.trigger_stage == stage:
                self.enroll(run, self.clock.seconds(when, 0.002, 0.02), name, f"entered {label} ({by})")

    # -- the lead's later life -------------------------------------------------------------------------------------

    def reply(self, run: Run, when: datetime, text: str, channel: str, postal_code: str = "") -> None:
        """A message from the lead (``lead_capture`` of a known lead, then the pipeline), as cadences hear it."""
        lead = run.lead
        self.replied_events += 1
        event = self.rows.add(
            InboundEvent(
                lead=lead,
                channel=channel,
                source="twilio-sms" if channel == Channel.SMS else "email",
                external_id=f"{run.event.external_id}-{self.replied_events}",
                phone=lead.phone if channel == Channel.SMS else "",
                email=lead.email if channel == Channel.EMAIL else "",
                postal_code=postal_code,
                message=text,
                received_at=when,
                processed_at=self.clock.seconds(when, 0.6, 2.5),
                created_at=when,
            )
        )
        run.replies.append(when)
        self.credit(run, when)
        self.stop(
            run,
            when,
            "reply",
            f"The lead replied by {Channel(channel).label.lower()}.",
            lambda cadence: cadence.stop_on_reply,
        )
        if postal_code and not lead.postal_code:
            lead.postal_code = postal_code
            self.snapshot(run, when, f"filled postal_code from a {channel} event")
        self.requalify(run, event)

    def credit(self, run: Run, when: datetime) -> None:
        """``cadences_on_reply``: the latest step sent in the last CADENCE_REPLY_DAYS is credited with the reply."""
        since = when - timedelta(days=settings.CADENCE_REPLY_DAYS)
        sent = [
            step_run
            for enrollment in run.enrollments
            for step_run in enrollment.step_runs
            if step_run.action is not None
            and step_run.action.status == Action.Status.DONE
            and since <= step_run.created_at <= when
        ]
        latest = max(sent, key=lambda step_run: step_run.created_at, default=None)
        if latest is not None and latest.replied_at is None:
            latest.replied_at = when

    def quote(self, run: Run, when: datetime) -> None:
        """A rep's quote (``message_propose`` with workflow quote and an amount): sent at once, the lead is Quoted."""
        lead = run.lead
        user_id = run.lead.owner_id
        reach = channel_for(lead)
        if reach is None or lead.stage in (Stage.WON, Stage.LOST):
            return
        channel, kind, to = reach
        job, amount = self.clock.rng.choice(QUOTES)
        first = lead.first_name or "there"
        body = (
            f"Hi {first}, here is your quote for the {job}: ${amount:,}, materials, labour and cleanup included. "
            f"Reply here with any questions. {self.config.first_names.get(user_id, '')}"
        ).strip()
        subject = f"Your quote from {settings.BUSINESS_NAME}" if channel == "email" else ""
        action = self.propose(
            run,
            when,
            workflow=Workflow.QUOTE,
            content=DraftContent(kind=kind, to=to, body=body, subject=subject),
            mode="draft",
            reasoning=f"Written by {self.users[user_id]}.",
            proposed_by=user_id,
            amount=amount,
        )
        self.send(run, action, self.clock.seconds(when, 0.2, 1.2))

    def book(self, run: Run, when: datetime) -> None:
        """``appointment_book`` by the owner: the Appointment, the lead at Appointment, reminders instead of nudges."""
        lead = run.lead
        if lead.stage in (Stage.WON, Stage.LOST):
            return
        user_id = run.lead.owner_id
        starts = self.clock.office_days_later(when, self.clock.rng.randint(1, 5))
        location = self.clock.rng.choice(LOCATIONS)
        appointment = self.rows.add(
            Appointment(
                lead=lead,
                starts_at=starts,
                location=location,
                booked_by_id=user_id,
                invite_sent_sequence=0,
                created_at=when,
                updated_at=when,
            )
        )
        run.appointment = appointment
        before = self.stage_to(run, Stage.APPOINTMENT)
        self.snapshot(run, when, "appointment booked", user_id=user_id)
        tz_name = lead.timezone or settings.TIME_ZONE
        local = starts.astimezone(lead_tz(lead))
        self.rows.decision(
            when,
            step=Decision.Step.BOOK,
            lead=lead,
            actor_id=user_id,
            actor_type=Decision.ActorType.PERSON,
            output={"appointment": appointment, "starts_at": starts.isoformat(), "duration_minutes": 60},
            reasoning=f"{self.users[user_id]} booked {local:%a %b %d, %H:%M} ({tz_name}) for 60 min at {location}.",
        )
        self.touch(run, when, "appointment booked", user_id)
        if lead.email:
            self.invite(run, self.clock.seconds(when, 1, 4), appointment)
        self.stop(
            run,
            when,
            "booked",
            "An appointment was booked.",
            lambda cadence: cadence.stop_on_booking and cadence.trigger != Cadence.Trigger.APPOINTMENT,
        )
        if not run.baseline:
            self.enroll(run, when, REMINDERS, "appointment booked", appointment=appointment, user_id=user_id)
        self.stage_changed(run, when, before, self.users[user_id])

    def invite(self, run: Run, when: datetime, appointment: Appointment) -> None:
        """``integrations.calendar``'s invite, recorded as the email it is."""
        local = appointment.starts_at.astimezone(lead_tz(run.lead))
        pid = self.provider_id("email")
        self.rows.add(
            Message(
                lead=run.lead,
                direction=Message.Direction.OUTBOUND,
                channel=Channel.EMAIL,
                to=run.lead.email,
                subject=f"Invitation: {settings.BUSINESS_NAME} appointment {local:%a %b %d, %H:%M}",
                body=f"Invitation appointment on {local:%A %B %d at %H:%M} (60 min) at {appointment.location}.",
                status=Message.Status.SENT,
                provider_id=pid,
                message_id=pid,
                sent_at=when,
                created_at=when,
            )
        )

    def close(self, run: Run, when: datetime, stage: str) -> None:
        """The owner marks the lead won or lost (``lead_stage_set``); a win asks for a review after automation."""
        if run.lead.stage in (Stage.WON, Stage.LOST):
            return
        user_id = run.lead.owner_id
        before = run.lead.stage
        self.stage_set(run, when, stage, user_id)
        self.stage_changed(run, when, before, self.users[user_id])

    def later(self, moment: datetime, low_days: float, high_days: float) -> datetime:
        """A moment a person acts, some days after ``moment``."""
        return self.clock.person(moment + timedelta(days=self.clock.rng.uniform(low_days, high_days)), "quick")
