"""A fixed-window rate limit on the shared cache (Redis in production, local memory otherwise).

Public pages (personal consent links, group invites) take no login, so each is limited per
client IP and per token: a guessing run or a flood gets a clear "try again later" page instead of
reaching the ledger.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.shortcuts import render


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    seconds: int


def hit(limit: Limit, key: str) -> bool:
    """Count one request; False once ``key`` has used up ``limit`` in the current window."""
    window = int(time.time() // limit.seconds)
    cache_key = f"ratelimit:{limit.scope}:{key}:{window}"
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _redis_count(backend, cache_key, limit.seconds + 5) <= limit.count
    if cache.add(cache_key, 1, timeout=limit.seconds + 5):
        return True
    try:
        used = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=limit.seconds + 5)
        used = 1
    return used <= limit.count


def _redis_count(backend: RedisCache, cache_key: str, timeout: int) -> int:
    """INCR and EXPIRE NX in one round trip (the portable add-then-incr takes three): every API
    call counts against its key's limit, so this is on the hot path."""
    key = backend.make_and_validate_key(cache_key)
    client = backend._cache.get_client(key, write=True)
    # No MULTI: a counter left without its expiry names a past window, never read again.
    pipe = client.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, timeout, nx=True)
    return pipe.execute()[0]


def retry_after(limit: Limit) -> int:
    return limit.seconds - int(time.time() % limit.seconds)


def too_many(request, limit: Limit):
    """The one "try again later" page (429) of every public page, with Retry-After."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = str(retry_after(limit))
    return response
