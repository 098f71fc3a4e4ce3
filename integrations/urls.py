from django.urls import path

from integrations import views

urlpatterns = [
    path("twilio/sms/", views.twilio_sms, name="twilio-sms"),
    path("twilio/status/", views.twilio_status, name="twilio-status"),
    path("webhooks/<slug:slug>/", views.source_webhook, name="source-webhook"),
    path("email/inbound/", views.email_inbound, name="email-inbound"),
    path("chat/<slug:slug>/", views.chat_config, name="chat-config"),
    path("chat/<slug:slug>/messages/", views.chat_messages, name="chat-messages"),
    path("chat/<slug:slug>/demo/", views.chat_demo, name="chat-demo"),
]
