"""Property-based calls against our own OpenAPI schema (schemathesis): for every operation,
generated valid and invalid input, with a key of every scope. The API must never answer 500,
must answer only what its schema says (status codes, content types, bodies), and must refuse
what the schema forbids. Bounded examples: the suite stays minutes, not hours."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

from .factories import make_key

pytestmark = pytest.mark.django_db

# Examples per operation; SCHEMATHESIS_EXAMPLES=200 for a longer hunt by hand.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))


@pytest.fixture
def api_key(org, dpo):
    offers = PurposeFactory(organisation=org, code="offers")
    notice = published_notice(purposes=[offers])
    grant(DataSubjectFactory(organisation=org, phone="+34600000001"), offers, notice)
    return make_key(org, dpo)[1]


@pytest.fixture(autouse=True)
def _connection_kept_open():
    # Schemathesis calls the WSGI application directly, so each request starts and finishes with
    # close_old_connections, which closes a connection found inside a transaction: on
    # PostgreSQL that is the test's own. Django's test client disconnects it the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded when the module is collected: the schema view reads no database. (A lazy schema from a
# fixture, schemathesis.pytest.from_fixture, does not run under pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_to_its_schema(case, api_key):
    # Every check but "schema-valid input is accepted": whether a text is a phone number of the
    # organisation's country, or a code one of its purposes, the schema cannot say, and the API
    # refuses those with a 400 that names the field (tests/api/test_api.py).
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key}"},
        excluded_checks=[positive_data_acceptance],
    )
