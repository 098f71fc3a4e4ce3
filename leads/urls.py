from django.urls import path

from leads import views

portal_patterns = [
    path("leads/", views.lead_index, name="leads"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead-detail"),
]
