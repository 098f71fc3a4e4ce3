"""Operational endpoints."""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from config.queue import broker

logger = logging.getLogger(__name__)


@require_GET
def healthz(request):
    """200 when the database answers, with the task queue's depth; 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("healthz.database_down")
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    try:
        depth = broker().queue_size()
    except Exception:  # noqa: BLE001 - a broker outage is reported, not raised
        logger.exception("healthz.broker_down")
        return JsonResponse({"status": "degraded", "database": "ok", "queue": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "queue_depth": depth})
