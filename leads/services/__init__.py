"""Writes for leads. The package re-exports the names callers use, so each module keeps one idea."""

from leads.services.appointments import appointment_book, appointment_cancel, appointment_reschedule
from leads.services.capture import (
    FILLABLE_FIELDS,
    PROCESS_TASK,
    CaptureEvent,
    CaptureResult,
    capture_clean,
    lead_capture,
    request_fingerprint,
)
from leads.services.consent import sms_consent_set, sms_keyword
from leads.services.stage import CLOSED_STAGES, lead_call_log, lead_stage_changed, lead_stage_set, lead_touch

__all__ = [
    "CLOSED_STAGES",
    "FILLABLE_FIELDS",
    "PROCESS_TASK",
    "CaptureEvent",
    "CaptureResult",
    "appointment_book",
    "appointment_cancel",
    "appointment_reschedule",
    "capture_clean",
    "lead_call_log",
    "lead_capture",
    "lead_stage_changed",
    "lead_stage_set",
    "lead_touch",
    "request_fingerprint",
    "sms_consent_set",
    "sms_keyword",
]
