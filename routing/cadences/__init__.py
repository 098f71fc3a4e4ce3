"""Cadences: enrolling leads, running due steps through the one road (``action_propose``), and stopping them.

One idea per module: ``book`` (the snapshot and a step's clock), ``enrollment`` (an enrollment's life),
``triggers`` (what starts and stops cadences), ``sweep`` (the scheduler). The package re-exports the
names callers use.
"""

from routing.cadences.book import BOOK, CadenceBook, Rules, step_due, step_slot
from routing.cadences.enrollment import (
    enrollment_create,
    enrollment_pause,
    enrollment_resume,
    enrollment_skip,
    enrollment_start,
    enrollment_stop,
    lead_cadences_stop,
)
from routing.cadences.sweep import PassResult, cadence_pass, cadence_sweep
from routing.cadences.triggers import (
    cadences_on_appointment_cancelled,
    cadences_on_appointment_moved,
    cadences_on_booking,
    cadences_on_lead_created,
    cadences_on_opt_out,
    cadences_on_reassign,
    cadences_on_reply,
    cadences_on_sent,
    cadences_on_stage,
)

__all__ = [
    "BOOK",
    "CadenceBook",
    "PassResult",
    "Rules",
    "cadence_pass",
    "cadence_sweep",
    "cadences_on_appointment_cancelled",
    "cadences_on_appointment_moved",
    "cadences_on_booking",
    "cadences_on_lead_created",
    "cadences_on_opt_out",
    "cadences_on_reassign",
    "cadences_on_reply",
    "cadences_on_sent",
    "cadences_on_stage",
    "enrollment_create",
    "enrollment_pause",
    "enrollment_resume",
    "enrollment_skip",
    "enrollment_start",
    "enrollment_stop",
    "lead_cadences_stop",
    "step_due",
    "step_slot",
]
