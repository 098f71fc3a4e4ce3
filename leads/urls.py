from django.urls import path

from leads import views

portal_patterns = [
    path("leads/", views.lead_index, name="leads"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:lead_id>/accept/", views.lead_accept, name="lead-accept"),
    path("leads/<int:lead_id>/call/", views.lead_call, name="lead-call"),
    path("leads/<int:lead_id>/relabel/", views.lead_relabel_view, name="lead-relabel"),
]
