"""Repeated failed logins lock the username for that address (django-axes)."""

import pytest
from django.conf import settings

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCKED_OUT = "This account has been locked for a while after too many failed attempts"


@pytest.fixture
def ana(db):
    return UserFactory(email="ana@example.org")


def _login(client, password, ip="192.0.2.10", email="ana@example.org"):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_failures_below_the_limit_only_show_the_form_again(client, ana):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, "wrong")
        assert response.status_code == 200
        assert LOCKED_OUT not in response.content.decode()
    assert _login(client, "correct-horse-battery").status_code == 302


def test_after_too_many_failures_even_the_right_password_is_refused(client, ana):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong")

    response = _login(client, "correct-horse-battery")

    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()
    assert 'data-testid="locked-out"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_applies_to_that_username_from_that_address_only(client, ana):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong")
    assert _login(client, "correct-horse-battery").status_code == 429

    response = _login(client, "correct-horse-battery", ip="192.0.2.99")
    assert response.status_code == 302
