from django.urls import path

from approvals import views

portal_patterns = [
    path("queue/", views.queue, name="queue"),
    path("actions/bulk-approve/", views.actions_bulk_approve, name="actions-bulk-approve"),
    path("actions/<int:action_id>/", views.action_row, name="action-row"),
    path("actions/<int:action_id>/approve/", views.action_approve, name="action-approve"),
    path("actions/<int:action_id>/edit/", views.action_edit, name="action-edit"),
    path("actions/<int:action_id>/reject/", views.action_reject, name="action-reject"),
    path("actions/<int:action_id>/retry/", views.action_retry, name="action-retry"),
    path("actions/<int:action_id>/snooze/", views.action_snooze, name="action-snooze"),
    path("sms/segments/", views.sms_segments, name="sms-segments"),
    path("autonomy/", views.autonomy, name="autonomy"),
    path("autonomy/<slug:workflow>/", views.policy_change, name="policy-change"),
    path("autonomy/<slug:workflow>/graduate/", views.policy_graduate, name="policy-graduate"),
    path("autonomy/<slug:workflow>/gates/", views.gate_add, name="gate-add"),
    path("autonomy/<slug:workflow>/gates/<int:gate_id>/delete/", views.gate_remove, name="gate-remove"),
]
