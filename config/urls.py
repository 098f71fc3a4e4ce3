from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from approvals.api import ActionViewSet
from approvals.urls import portal_patterns as approval_portal_patterns
from audit.urls import portal_patterns as audit_portal_patterns
from audit.views import healthz, metrics
from leads.api import EventCreateApi, LeadViewSet
from leads.views import capture_form, unsubscribe
from routing.api import ActionRegenerateApi, CadenceViewSet, EnrollmentViewSet, SimulateApi
from routing.urls import portal_patterns as routing_portal_patterns
from routing.urls import webhook_patterns as routing_webhook_patterns
from routing.views.booking import booking_link

router = DefaultRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("actions", ActionViewSet, basename="action")
router.register("cadences", CadenceViewSet, basename="cadence")
router.register("enrollments", EnrollmentViewSet, basename="enrollment")

api_patterns = [
    path("events/", EventCreateApi.as_view(), name="event-create"),
    path("simulate/", SimulateApi.as_view(), name="simulate"),
    path("actions/<int:pk>/regenerate/", ActionRegenerateApi.as_view(), name="action-regenerate"),
    *router.urls,
]

portal_patterns = [
    path("", RedirectView.as_view(pattern_name="portal:queue"), name="home"),
    *approval_portal_patterns,
    *routing_portal_patterns,
    *audit_portal_patterns,
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:queue")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file: the docs page keeps to the Content-Security-Policy.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("capture/form/<slug:slug>/", capture_form, name="capture-form"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    # The lead's self-scheduling page: a signed, expiring link, no login (routing.views.booking).
    path("book/<str:token>/", booking_link, name="booking-link"),
    path("integrations/", include("integrations.urls")),
    path("integrations/", include(routing_webhook_patterns)),
    path("portal/", include((portal_patterns, "portal"))),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
]

handler404 = "config.views.not_found"
