from django.urls import path

from routing.views import booking, cadences, drafts, leads, privacy, voice

portal_patterns = [
    path("leads/", leads.lead_index, name="leads"),
    path("leads/<int:lead_id>/", leads.lead_detail, name="lead-detail"),
    path("leads/<int:lead_id>/accept/", leads.lead_accept, name="lead-accept"),
    path("leads/<int:lead_id>/call/", leads.lead_call, name="lead-call"),
    path("leads/<int:lead_id>/relabel/", leads.lead_relabel_view, name="lead-relabel"),
    path("leads/<int:lead_id>/reply/", leads.lead_reply, name="lead-reply"),
    path("leads/<int:lead_id>/quote/", leads.lead_quote, name="lead-quote"),
    path("leads/<int:lead_id>/stage/", leads.lead_stage, name="lead-stage"),
    path("leads/<int:lead_id>/book/", leads.lead_book, name="lead-book"),
    path("leads/<int:lead_id>/reassign/", leads.lead_reassign_view, name="lead-reassign"),
    path("leads/<int:lead_id>/contact/", leads.lead_contact, name="lead-contact"),
    path("leads/<int:lead_id>/do-not-contact/", leads.lead_do_not_contact, name="lead-do-not-contact"),
    path("leads/<int:lead_id>/consent-hold/", leads.lead_consent_hold, name="lead-consent-hold"),
    path("leads/<int:lead_id>/consent.csv", leads.lead_consent_csv, name="lead-consent-csv"),
    path("leads/<int:lead_id>/export.json", privacy.lead_export, name="lead-export"),
    path("leads/<int:lead_id>/forget/", privacy.lead_forget, name="lead-forget"),
    path(
        "leads/<int:lead_id>/appointments/<int:appointment_id>/move/", leads.appointment_move, name="appointment-move"
    ),
    path(
        "leads/<int:lead_id>/appointments/<int:appointment_id>/cancel/",
        leads.appointment_cancel_view,
        name="appointment-cancel",
    ),
    path(
        "leads/<int:lead_id>/appointments/<int:appointment_id>/attendance/",
        booking.appointment_attendance,
        name="appointment-attendance",
    ),
    path("leads/<int:lead_id>/enrollments/", cadences.enrollment_add, name="enrollment-add"),
    path("enrollments/<int:enrollment_id>/<slug:change>/", cadences.enrollment_change, name="enrollment-change"),
    path("cadences/", cadences.cadences_report, name="cadences"),
    path("actions/<int:action_id>/regenerate/", drafts.action_regenerate_view, name="action-regenerate"),
]

# Provider callbacks, under /integrations/ beside integrations' own (the same URLs Twilio is given).
webhook_patterns = [
    path("twilio/voice/", voice.twilio_voice, name="twilio-voice"),
    path("twilio/voice/status/", voice.twilio_voice_status, name="twilio-voice-status"),
    path("twilio/voice/transcription/", voice.twilio_voice_transcription, name="twilio-voice-transcription"),
]
