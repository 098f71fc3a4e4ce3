from django.urls import path

from integrations import views

urlpatterns = [
    path("twilio/sms/", views.twilio_sms, name="twilio-sms"),
    path("twilio/status/", views.twilio_status, name="twilio-status"),
]
