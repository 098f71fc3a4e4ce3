from django.urls import path

from bench.baseline.views import BaselineCreateApi
from config.urls import urlpatterns as app_urlpatterns

urlpatterns = [path("bench/baseline/", BaselineCreateApi.as_view()), *app_urlpatterns]
