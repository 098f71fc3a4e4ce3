from django.urls import path

from audit import views

portal_patterns = [
    path("log/", views.decision_log, name="log"),
    path("reports/", views.report, name="reports"),
    path("reports/settings/", views.report_settings, name="report-settings"),
    path("reports/leaks/<slug:kind>/", views.leak_list, name="leak-list"),
    path("reports/<slug:name>/", views.report, name="report"),
]
