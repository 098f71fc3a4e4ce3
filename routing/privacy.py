"""What routing holds about a person, for export and erasure (PERSON_EXPORT, PERSON_FORGET in leads.reactions).

Assignments (who got the lead and why, in words), cadence enrollments and their step runs (triggers and
reasons in words), and the intent examples a rep's correction made of the person's own message.
"""

from leads.privacy import Person, history_export, redacted, rows_export, rows_forget
from routing.cadences import lead_cadences_stop
from routing.models import Assignment, Enrollment, IntentExample, StepRun

STOPPED = "The person was forgotten."


def routing_forget(*, person: Person, leads, user=None) -> dict[str, int]:
    """Stop the person's cadences and SLA clocks (a tombstone is nobody's work), redact the routing texts that
    name them, and delete the intent examples made of their words. Kept: who the lead was given to, by which
    rule, when, and whether the SLA was breached (the speed and SLA reports count them)."""
    stopped = sum(
        len(lead_cadences_stop(lead=lead, kind=Enrollment.StopKind.PERSON, reason=STOPPED, user=user)) for lead in leads
    )
    ids = person.lead_ids
    Assignment.objects.filter(lead_id__in=ids, sla_due_at__isnull=False).update(sla_due_at=None)
    assignments, history = rows_forget(Assignment.objects.filter(lead_id__in=ids), {"reason": redacted}, person)
    enrollments = rows_forget(
        Enrollment.objects.filter(lead_id__in=ids),
        {"trigger": redacted, "stop_reason": redacted, "last_error": redacted},
        person,
    )[0]
    runs = rows_forget(StepRun.objects.filter(enrollment__lead_id__in=ids), {"reason": redacted}, person)[0]
    # An example is its text (the person's message) and that text's vector: nothing is left to keep.
    examples, _ = IntentExample.objects.filter(lead_id__in=ids, source=IntentExample.Source.CORRECTION).delete()
    return {
        "enrollments_stopped": stopped,
        "assignments": assignments,
        "assignments_history": history,
        "enrollments": enrollments,
        "step_runs": runs,
        "intent_examples": examples,
    }


def routing_export(*, person: Person, leads) -> dict[str, list[dict]]:
    """The person's assignments (and their history), enrollments, step runs and intent examples."""
    ids = person.lead_ids
    assignments = Assignment.objects.filter(lead_id__in=ids).order_by("created_at", "id")
    return {
        "assignments": rows_export(assignments),
        "assignment_history": history_export(assignments),
        "enrollments": rows_export(Enrollment.objects.filter(lead_id__in=ids)),
        "step_runs": rows_export(StepRun.objects.filter(enrollment__lead_id__in=ids)),
        "intent_examples": rows_export(IntentExample.objects.filter(lead_id__in=ids)),
    }
