import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # The rate limit counts on the shared cache: each test starts with an empty window.
    cache.clear()
    yield
    cache.clear()
