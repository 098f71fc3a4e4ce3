from django.urls import path

from leads import views

portal_patterns = [
    path("leads/", views.lead_index, name="leads"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:lead_id>/accept/", views.lead_accept, name="lead-accept"),
    path("leads/<int:lead_id>/call/", views.lead_call, name="lead-call"),
    path("leads/<int:lead_id>/relabel/", views.lead_relabel_view, name="lead-relabel"),
    path("leads/<int:lead_id>/reply/", views.lead_reply, name="lead-reply"),
    path("leads/<int:lead_id>/quote/", views.lead_quote, name="lead-quote"),
    path("leads/<int:lead_id>/stage/", views.lead_stage, name="lead-stage"),
    path("leads/<int:lead_id>/book/", views.lead_book, name="lead-book"),
    path("leads/<int:lead_id>/reassign/", views.lead_reassign_view, name="lead-reassign"),
    path(
        "leads/<int:lead_id>/appointments/<int:appointment_id>/move/", views.appointment_move, name="appointment-move"
    ),
    path(
        "leads/<int:lead_id>/appointments/<int:appointment_id>/cancel/",
        views.appointment_cancel_view,
        name="appointment-cancel",
    ),
]
