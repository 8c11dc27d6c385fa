import time

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from accounts.ratelimit import Limit, hit, retry_after

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def test_a_key_is_refused_once_it_used_its_window_and_others_are_not():
    limit = Limit("test", count=3, seconds=60)
    assert [hit(limit, "1.2.3.4") for _ in range(4)] == [True, True, True, False]
    assert hit(limit, "5.6.7.8") is True
    assert 0 < retry_after(limit) <= 60


def test_scopes_do_not_share_counters():
    assert hit(Limit("a", 1, 60), "k") and not hit(Limit("a", 1, 60), "k")
    assert hit(Limit("b", 1, 60), "k")


def test_on_redis_a_window_counts_in_the_cache_and_expires():
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        pytest.skip("The one-round-trip counter is Redis's (set REDIS_URL; CI does).")
    limit = Limit("ttl", 5, 60)
    window = int(time.time() // 60)
    assert hit(limit, "k") and hit(limit, "k")
    name = f"ratelimit:ttl:k:{window}"
    assert cache.get(name) == 2
    key = backend.make_and_validate_key(name)
    assert 0 < backend._cache.get_client(key).ttl(key) <= 65
