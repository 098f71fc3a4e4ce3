"""A rep who can no longer log in hands their open leads back to the routing rules, one Decision per lead.

Saving a user who cannot log in (routing.models.login_possible: the admin's *Active* box off, or no usable
password where the password is the only way in) while they own open leads queues
``routing.tasks.owner_leads_handover`` on commit, with a lead-less Decision saying how many leads go back.
The task re-routes ``BATCH`` leads at a time, each in its own transaction under the lead's row lock, and queues
itself again while leads remain: progress is the Decisions, the task results and the Rep admin's "Open leads".
A deactivation that sent no signal (``QuerySet.update``) or a lost task is caught by the five-minute
``lost_work_requeue`` through :func:`handovers_requeue`.
"""

import logging
from dataclasses import asdict, dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from audit.models import Decision
from audit.services import decision_record
from config.queue import enqueue_on_commit, requeue
from leads.choices import OPEN_STAGES
from leads.lock_objects import lead_lock
from leads.models import Lead
from routing.directory import config_changed
from routing.models import Assignment, Rep
from routing.models.people import login_possible, no_login
from routing.services import lead_facts, lead_route

logger = logging.getLogger(__name__)

TASK = "routing.tasks.owner_leads_handover"
BATCH = 100
WHY = "owner deactivated"


def _open_leads(user_id: int):
    return Lead.objects.filter(owner_id=user_id, stage__in=OPEN_STAGES)


def _why(user) -> str:
    how = "the user is inactive" if not user.is_active else "no usable password, the only way to log in"
    return f"{WHY} ({user.get_full_name() or user.get_username()} cannot log in: {how})"


def owner_deactivated(sender, instance, created=False, raw=False, update_fields=None, **kwargs) -> None:
    """post_save receiver for the user model (connected in routing.apps): a user who cannot log in hands over."""
    if raw or created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    if login_possible(instance):
        return
    count = _open_leads(instance.pk).count()
    if not count:
        return
    config_changed()  # the directory must know before any of their leads is routed again
    decision_record(
        step=Decision.Step.REASSIGN,
        output={"user": instance.pk, "open_leads": count, "why": WHY},
        reasoning=f"{_why(instance)}: {count} open lead{'s' if count != 1 else ''} go back to the routing rules.",
    )
    enqueue_on_commit(TASK, instance.pk)


@dataclass
class HandoverResult:
    handed: int = 0  # given to another rep
    unassigned: int = 0  # nobody could take them: left unassigned for a manager
    remaining: int = 0  # still theirs after this batch (the task queued itself again)
    stopped: str = ""  # why nothing was done: "can log in", "no such user"


def _lead_handover(lead_id: int, user, rep_id: int | None, result: HandoverResult) -> None:
    with transaction.atomic():
        lead = lead_lock(lead_id)
        if lead.owner_id != user.pk or lead.stage not in OPEN_STAGES:
            return  # someone else moved it meanwhile
        event = lead.events.order_by("-received_at", "-id").first()
        facts = lead_facts(lead, lead.qualification or {}, event)
        lead.owner_id = None  # saved by routing: with the new owner, or alone when nobody can take it
        lead._change_reason = WHY
        assignment = lead_route(
            lead=lead,
            facts=facts,
            kind=Assignment.Kind.HANDOVER,
            exclude=frozenset({rep_id}) if rep_id else frozenset(),
            unsaved=["owner", "updated_at"],
            why=_why(user),
        )
        if assignment is None:
            # Nobody's clock should run on a lead nobody owns; the escalated Decision shows it to the managers.
            Assignment.objects.filter(lead=lead, sla_due_at__isnull=False).update(sla_due_at=None)
            result.unassigned += 1
        else:
            result.handed += 1


def owner_leads_handover(*, user_id: int) -> HandoverResult:
    """Route again up to ``BATCH`` open leads of user ``user_id`` if they cannot log in.

    Each lead gets a route Decision whose reasoning starts "owner deactivated"; a lead nobody can take is left
    unassigned (its Decision is escalated). Queues itself again while leads remain. Safe to run twice.
    """
    result = HandoverResult()
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or login_possible(user):
        result.stopped = "no such user" if user is None else "can log in"
        return result
    rep_id = Rep.objects.filter(user_id=user_id).values_list("pk", flat=True).first()
    ids = list(_open_leads(user_id).order_by("pk").values_list("pk", flat=True)[:BATCH])
    for lead_id in ids:
        _lead_handover(lead_id, user, rep_id, result)
    result.remaining = _open_leads(user_id).count()
    logger.info("owner.handover", extra={"user_id": user_id, **asdict(result)})
    if result.remaining and ids:
        enqueue_on_commit(TASK, user_id)
    return result


def handovers_requeue() -> int:
    """Queue the handover again for every user who cannot log in and still owns open leads; returns how many."""
    owners = (
        Lead.objects.filter(stage__in=OPEN_STAGES)
        .filter(no_login("owner__"))
        .values_list("owner_id", flat=True)
        .order_by("owner_id")
        .distinct()
    )
    return requeue(TASK, owners)
