"""``/healthz``: a load balancer's question "can this node serve?", answered before anything else.

It runs first in the middleware list, so it needs no allowed host (load balancers ask by the
node's address), no HTTPS redirect, no session, no language prefix. A node that cannot reach its
database or its shared cache answers 503 and is taken out of rotation; the body names which one
failed and nothing else.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponseNotAllowed, JsonResponse

logger = logging.getLogger(__name__)

HEALTH_PATHS = ("/healthz", "/healthz/")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0] == 1
    except DatabaseError:
        logger.exception("health check: database unreachable")
        return False


def _cache_ok() -> bool:
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=5)
        value = cache.get(key)
        cache.delete(key)
        return value == "1"
    except Exception:  # any backend's connection error (Redis, database cache)
        logger.exception("health check: cache unreachable")
        return False


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info not in HEALTH_PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        checks = {"database": _database_ok(), "cache": _cache_ok()}
        healthy = all(checks.values())
        response = JsonResponse(
            {
                "status": "ok" if healthy else "unavailable",
                **{k: "ok" if v else "error" for k, v in checks.items()},
            },
            status=200 if healthy else 503,
        )
        response["Cache-Control"] = "no-store"
        return response
