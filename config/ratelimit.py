"""Per-visitor request limits for public endpoints, counted in the cache every web process shares; and who the
visitor is, behind the load balancer or not."""

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ipware import get_client_ip

WINDOW_SECONDS = 60


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def client_address(request: HttpRequest) -> str:
    """The visitor's IP address as text ("" when unknown).

    Behind ``TRUSTED_PROXY_COUNT`` proxies (``DJANGO_BEHIND_PROXY``), the entry of ``PROXY_CLIENT_HEADER``
    (X-Forwarded-For) that many hops from the right: each proxy appends the address it saw, so the right end is
    written by our own proxies and anything a client put on the left is never read (MDN, "X-Forwarded-For:
    selecting an IP address", trusted proxy count). django-ipware's ``proxy_count`` counts the proxies *inside*
    the header, one fewer than ours (the proxy that connects to us writes its client, not itself). A request that
    carries no usable header (a health check, or one that bypassed the balancer) is the connecting address,
    REMOTE_ADDR, as it is when the app is not behind a proxy, where the header is ignored.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    address, _routable = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=hops - 1,
        request_header_order=[_meta_key(settings.PROXY_CLIENT_HEADER)],
        strict=False,
    )
    return address or remote


def _visitor_key(address: str) -> str:
    """The unit a limit counts: an IPv4 address, or an IPv6 address's /64, since one subscriber is handed a whole
    /64 (RFC 6177) and could otherwise take a fresh address for every request."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def rate_count(request: HttpRequest, scope: str) -> int:
    """Count this request in the visitor's fixed one-minute window for ``scope``; returns the window's count so far,
    this request included."""
    window = int(time.time() // WINDOW_SECONDS)
    key = f"rate:{scope}:{_visitor_key(client_address(request))}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS + 10)
    return cache.incr(key)


def rate_limited(request: HttpRequest, scope: str, per_minute: int) -> bool:
    """Count this request (see ``rate_count``); True once the visitor is over ``per_minute`` in this minute."""
    return rate_count(request, scope) > per_minute


def retry_after() -> str:
    """Seconds until the current window ends, for a 429's Retry-After header (RFC 6585 §4)."""
    return str(WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS)
