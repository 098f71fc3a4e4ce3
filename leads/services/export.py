"""Exporting a person: everything held about them, as JSON (a subject access request).

The leads' own rows are gathered here; the floors above add theirs through ``PERSON_EXPORT`` (leads.reactions),
as erasure reaches them through ``PERSON_FORGET``: each app knows what it holds about a person.
"""

import json
import logging

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Decision
from audit.services import decision_record
from leads.models import Appointment, ConsentRecord, InboundEvent, Lead, Message, Suppression
from leads.privacy import Person, history_export, person_find, rows_export
from leads.reactions import PERSON_EXPORT

logger = logging.getLogger(__name__)


def _leads_sections(person: Person) -> dict[str, list[dict]]:
    ids = person.lead_ids
    leads = Lead.objects.filter(pk__in=ids)
    appointments = Appointment.objects.filter(lead_id__in=ids)
    digests = person.digests
    return {
        "leads": rows_export(leads),
        "lead_history": history_export(leads),
        "events": rows_export(InboundEvent.objects.filter(lead_id__in=ids)),
        "messages": rows_export(Message.objects.filter(lead_id__in=ids)),
        "appointments": rows_export(appointments),
        "appointment_history": history_export(appointments),
        "consent_records": rows_export(
            ConsentRecord.objects.filter(Q(lead_id__in=ids) | Q(phone__in=person.phones) | Q(email__in=person.emails))
        ),
        "suppressions": rows_export(
            Suppression.objects.filter(
                Q(channel=Suppression.Channel.SMS, digest__in=digests["sms"])
                | Q(channel=Suppression.Channel.EMAIL, digest__in=digests["email"])
            )
        ),
        "decisions": rows_export(
            Decision.objects.filter(Q(lead_id__in=ids) | Q(action__lead_id__in=ids)).order_by("created_at", "id")
        ),
        "admin_log": rows_export(
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Lead), object_id__in=[str(pk) for pk in ids]
            )
        ),
    }


@transaction.atomic
def person_export(*, phone: str = "", email: str = "", user=None, reason: str = "", lead_id: int | None = None) -> dict:
    """Everything held about the person with ``phone`` or ``email`` (or the person of ``lead_id``), JSON-ready.

    Shape: {"generated_at": ISO time, "person": {"phones": [...], "emails": [...], "lead_ids": [...]},
    "counts": {section: rows}, and one list of row dicts per section}. Sections: leads and lead_history,
    events (raw payloads included), messages, appointments and appointment_history, consent_records,
    suppressions, decisions, admin_log; from the floors above: actions and action_history, inbound_webhooks,
    webhook_deliveries and webhook_attempts, chat_sessions (without their token), assignments and
    assignment_history, enrollments, step_runs, intent_examples. Foreign keys are ids; times are ISO strings.

    The export is logged (a Decision on each lead, with the counts, who and why; a log line), after it is
    gathered, so it does not contain itself. Raises ValidationError as ``person_find`` does.
    """
    person, leads = person_find(phone=phone, email=email, lead_id=lead_id)
    sections = _leads_sections(person)
    for result in PERSON_EXPORT.send(person=person, leads=leads):
        sections.update(result)
    counts = {name: len(rows) for name, rows in sections.items()}
    export = {
        "generated_at": timezone.now(),
        "person": {
            "phones": sorted(person.phones),
            "emails": sorted(person.emails),
            "lead_ids": list(person.lead_ids),
        },
        "counts": counts,
        **sections,
    }
    why = person.redact(reason.strip())[:300]
    for lead in leads or [None]:
        decision_record(
            step=Decision.Step.PRIVACY,
            lead=lead,
            actor=user,
            output={"kind": "exported", "counts": counts},
            reasoning=f"Everything held about the person was exported{f' ({why})' if why else ''}: "
            f"{sum(counts.values())} rows.",
        )
    logger.info("person.exported", extra={"lead_ids": list(person.lead_ids), "user_id": getattr(user, "pk", None)})
    # Through the encoder and back: datetimes, decimals and UUIDs become the strings json.dumps can write.
    return json.loads(json.dumps(export, cls=DjangoJSONEncoder))
