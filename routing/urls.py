from django.urls import path

from routing import views

portal_patterns = [
    path("leads/<int:lead_id>/enrollments/", views.enrollment_add, name="enrollment-add"),
    path("enrollments/<int:enrollment_id>/<slug:change>/", views.enrollment_change, name="enrollment-change"),
    path("cadences/", views.cadences_report, name="cadences"),
]
