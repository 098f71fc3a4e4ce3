from django.urls import path

from approvals import views

portal_patterns = [
    path("queue/", views.queue, name="queue"),
    path("actions/<int:action_id>/", views.action_row, name="action-row"),
    path("actions/<int:action_id>/approve/", views.action_approve, name="action-approve"),
    path("actions/<int:action_id>/edit/", views.action_edit, name="action-edit"),
    path("actions/<int:action_id>/reject/", views.action_reject, name="action-reject"),
    path("actions/<int:action_id>/retry/", views.action_retry, name="action-retry"),
]
