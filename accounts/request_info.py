"""Where a request came from, for the audit trail and the consent ledger."""

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's IP address.

    REMOTE_ADDR is the only value a client cannot forge. Behind a reverse proxy, set
    TRUSTED_PROXY_COUNT so the address the proxy appended to X-Forwarded-For is used instead.
    """
    if request is None:
        return None
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request) -> str:
    if request is None:
        return ""
    return request.META.get("HTTP_USER_AGENT", "")[:400]
