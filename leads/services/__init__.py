"""Writes for leads. The package re-exports the names callers use, so each module keeps one idea."""

from leads.services.appointments import (
    appointment_attendance_mark,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from leads.services.capture import (
    FILLABLE_FIELDS,
    PROCESS_TASK,
    CaptureEvent,
    CaptureResult,
    ConsentGiven,
    Contact,
    capture_clean,
    contact_clean,
    lead_capture,
    request_fingerprint,
)
from leads.services.consent import (
    ConsentChange,
    Evidence,
    consent_confirmation_record,
    consent_hold_resolve,
    consent_hold_set,
    consent_opt_in,
    consent_opt_out,
    sms_words_consent,
)
from leads.services.contact import lead_contact_fix
from leads.services.erasure import ForgetResult, person_forget
from leads.services.export import person_export
from leads.services.stage import CLOSED_STAGES, lead_call_log, lead_stage_changed, lead_stage_set, lead_touch

__all__ = [
    "ConsentChange",
    "ForgetResult",
    "Evidence",
    "consent_confirmation_record",
    "consent_hold_resolve",
    "consent_hold_set",
    "consent_opt_in",
    "consent_opt_out",
    "CLOSED_STAGES",
    "FILLABLE_FIELDS",
    "PROCESS_TASK",
    "CaptureEvent",
    "CaptureResult",
    "ConsentGiven",
    "Contact",
    "appointment_attendance_mark",
    "appointment_book",
    "appointment_cancel",
    "appointment_reschedule",
    "capture_clean",
    "contact_clean",
    "lead_call_log",
    "lead_capture",
    "lead_contact_fix",
    "lead_stage_changed",
    "lead_stage_set",
    "lead_touch",
    "person_export",
    "person_forget",
    "request_fingerprint",
    "sms_words_consent",
]
