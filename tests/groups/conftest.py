import pytest


@pytest.fixture(autouse=True)
def _fresh_rate_limits(fresh_rate_limits):
    """Every groups test starts with an empty rate-limit window (tests/conftest.py)."""
