"""Shared fixtures: a fixed cast for every access test.

``org`` has one member of each role; ``outsider`` belongs only to ``other_org``. Views are tested
through the real client logged in as each of them.
"""

import pytest
from django.db.backends.signals import connection_created

from accounts.roles import Role
from config.celery import app as celery_app
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory


def _allow_flush_truncate(sender, connection, **kwargs):
    """Let Django's flush after transactional tests TRUNCATE the guarded tables on PostgreSQL.

    The ledger's TRUNCATE trigger (consents/db_guards.py) gives way only to this session setting,
    and only the test suite sets it; tests of the trigger switch it off with SET LOCAL.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET constancia.allow_truncate = 'on'")


# Every connection, the live server's and the threads' included, from the very first one.
connection_created.connect(_allow_flush_truncate)


@pytest.fixture(autouse=True)
def _eager_celery(request, settings):
    # Tests run tasks in-process unless they ask for a real worker (tests marked "worker").
    # Jobs likewise run inside the request ("inline"), so a test sees the finished job; tests of
    # the background runner ask for "thread" themselves.
    eager = request.node.get_closest_marker("worker") is None
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    settings.JOBS_RUNNER = "inline" if eager else "celery"
    celery_app.conf.task_always_eager = eager
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 costs ~50 ms a user and the cast alone has four: a fast hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def org(db):
    return OrganisationFactory(slug="clinic", legal_name="Clínica Dental Norte S.L.")


@pytest.fixture
def other_org(db):
    return OrganisationFactory(slug="other", legal_name="Otra Empresa S.A.")


def _member(organisation, role, email):
    return MembershipFactory(
        organisation=organisation, role=role, user=UserFactory(email=email)
    ).user


@pytest.fixture
def dpo(org):
    return _member(org, Role.DPO, "dpo@clinic.example")


@pytest.fixture
def staff(org):
    return _member(org, Role.STAFF, "staff@clinic.example")


@pytest.fixture
def auditor(org):
    return _member(org, Role.AUDITOR, "auditor@clinic.example")


@pytest.fixture
def outsider(other_org):
    """A DPO of another organisation: must never see ``org``'s data."""
    return _member(other_org, Role.DPO, "dpo@other.example")


@pytest.fixture
def cast(dpo, staff, auditor, outsider):
    return {"dpo": dpo, "staff": staff, "auditor": auditor, "outsider": outsider}


@pytest.fixture
def client_for(client):
    """client_for(user) -> the test client logged in as that user (None: anonymous)."""

    def login(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return login


def _uses_database(request) -> tuple[bool, bool]:
    """(uses the database, is transactional) for the running test."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    transactional = bool(
        {"transactional_db", "live_server"} & names
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    return marker is not None or transactional or "db" in names, transactional


@pytest.fixture(autouse=True)
def _sqlite_ledger_guards(request):
    """Keep the ledger's append-only triggers in place on SQLite, yet let Django empty tables.

    Transactional tests (live_server, threads) end with a flush, which on SQLite is a DELETE that
    the triggers refuse. PostgreSQL flushes with TRUNCATE, which row triggers do not see, so only
    SQLite needs this: the triggers are dropped just before the flush and put back before the next
    test touches the database.
    """
    from django.db import connection

    uses_db, transactional = _uses_database(request)
    if not uses_db or connection.vendor != "sqlite":
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from consents import db_guards

    db_guards.install(connection)
    yield
    if transactional:
        db_guards.remove(connection)


@pytest.fixture
def fresh_rate_limits():
    """The rate limits count on the shared cache: the test starts with an empty window, and
    leaves one for the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in English: a request in Spanish or Arabic leaves its language active in
    the thread, which would translate the messages the next test reads."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()
