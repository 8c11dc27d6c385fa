"""TRUNCATE cannot empty the ledger or the published texts, and the app's role cannot lift that.

PostgreSQL only: SQLite has no TRUNCATE (its ``DELETE FROM`` meets the row triggers, tested in
test_ledger.py) and no roles. CI runs these on PostgreSQL and must not skip them.
"""

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from consents.models import ConsentEvent, LedgerHead, NoticeVersion
from consents.services import ledger_verify_chain
from groups.models import UsagePolicyVersion
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

APP_ROLE_SQL = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "app-role.sql"


def _needs_postgresql():
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI must run the TRUNCATE guards on PostgreSQL (DATABASE_URL).")
        pytest.skip("TRUNCATE triggers and roles need PostgreSQL (set DATABASE_URL; CI does).")


@pytest.fixture
def postgres(db):
    _needs_postgresql()
    # The suite allows TRUNCATE for its own flush (tests/conftest.py); this test's transaction
    # is an ordinary session again.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL constancia.allow_truncate = 'off'")


@pytest.fixture
def ledger(org):
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    for _ in range(3):
        grant(DataSubjectFactory(organisation=org), purpose, notice)
    UsagePolicyVersion.objects.create(
        organisation=org, version="v1", text="Reglas", sha256="0" * 64, published_at=timezone.now()
    )
    with connection.cursor() as cursor:
        # Check the deferred foreign keys now, as a commit would: PostgreSQL refuses to TRUNCATE
        # a table with checks still pending, which would hide the trigger under test.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return org


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("TRUNCATE consents_consentevent CASCADE", "consent ledger is append-only"),
        ("TRUNCATE consents_ledgerhead", "consent ledger is append-only"),
        ("TRUNCATE consents_ledgercheckpoint", "signed checkpoints are kept"),
        # Notices are referenced by the ledger: CASCADE would take the events with them.
        ("TRUNCATE consents_noticeversion CASCADE", "published notice versions are immutable"),
        ("TRUNCATE groups_usagepolicyversion CASCADE", "published usage policy versions"),
        # Everything points at the organisation or the person: CASCADE reaches the ledger.
        ("TRUNCATE accounts_organisation CASCADE", "TRUNCATE of consents_"),
        ("TRUNCATE consents_datasubject CASCADE", "consent ledger is append-only"),
        ("TRUNCATE consents_purpose CASCADE", "TRUNCATE of consents_"),
    ],
)
def test_truncate_is_refused_and_the_ledger_stays_whole(postgres, ledger, statement, refusal):
    with (
        pytest.raises(IntegrityError, match=refusal),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert ConsentEvent.objects.filter(organisation=ledger).count() == 3
    assert LedgerHead.objects.get(organisation=ledger).sequence == 3
    assert NoticeVersion.objects.filter(organisation=ledger).count() == 1
    assert UsagePolicyVersion.objects.filter(organisation=ledger).count() == 1
    assert ledger_verify_chain(organisation=ledger).ok


def test_the_refusal_names_the_table(postgres, ledger):
    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE consents_consentevent CASCADE")

    assert "consent ledger is append-only: TRUNCATE of consents_consentevent refused" in str(
        refused.value
    )


def test_manage_py_flush_is_refused_outside_the_test_suite(postgres, ledger):
    """`manage.py flush` on a real database is one TRUNCATE of every table: refused as a whole."""
    tables = connection.introspection.django_table_names(only_existing=True)
    (flush,) = connection.ops.sql_flush(no_style(), tables)
    assert flush.startswith("TRUNCATE ") and "consents_consentevent" in flush

    with (
        pytest.raises(IntegrityError, match="TRUNCATE of .* refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(flush)

    assert ConsentEvent.objects.filter(organisation=ledger).count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_suites_flush_still_empties_the_guarded_tables(org):
    """What every transactional and live-server test does at teardown: a TRUNCATE of all tables."""
    _needs_postgresql()
    purpose = PurposeFactory(organisation=org)
    grant(DataSubjectFactory(organisation=org), purpose, published_notice(purposes=[purpose]))

    call_command("flush", interactive=False, verbosity=0)

    assert not ConsentEvent.objects.exists()
    assert not NoticeVersion.objects.exists()


@pytest.fixture
def app_role(transactional_db):
    """A throwaway application role set up by deploy/postgres/app-role.sql, as docker-compose does.

    Roles belong to the whole cluster, so the name is unique and the role is dropped after.
    """
    _needs_postgresql()
    psql = shutil.which("psql")
    if psql is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have psql to check deploy/postgres/app-role.sql.")
        pytest.skip("psql (postgresql-client) is needed to run deploy/postgres/app-role.sql.")
    db = connection.settings_dict
    role, password = f"constancia_app_test_{secrets.token_hex(4)}", secrets.token_hex(16)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or os.environ.get("PGPASSWORD", "")}
    # (the test database's owner is the suite's own user, standing for the deployment's owner)
    subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", db["HOST"] or "127.0.0.1"]
        + ["-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres", "-d", db["NAME"]]
        + ["-v", f"app_role={role}", "-v", f"app_password={password}", "-v", f"owner={owner}"]
        + ["-f", str(APP_ROLE_SQL)],
        check=True,
        env=env,
        capture_output=True,
    )
    yield role, password
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute("DROP TABLE IF EXISTS constancia_later_migration")
        # DROP OWNED also revokes its grants and default privileges here, so DROP ROLE can run.
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


def _connect_as(role, password):
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=role,
        password=password,
        autocommit=True,
    )


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("ALTER TABLE consents_consentevent DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER consents_ledger_append_only ON consents_consentevent", "must be owner"),
        ("DROP TRIGGER consents_consentevent_no_truncate ON consents_consentevent", "must be"),
        ("DROP FUNCTION constancia_refuse_truncate()", "must be owner"),
        ("TRUNCATE consents_consentevent", "permission denied"),
        # The setting the test suite uses is a speed bump, not a key: the role has no privilege.
        ("SET constancia.allow_truncate = 'on'; TRUNCATE consents_consentevent", "permission"),
        ("TRUNCATE accounts_organisation CASCADE", "permission denied"),
        ("DELETE FROM consents_consentevent", "append-only: DELETE refused"),
        ("CREATE TABLE consents_shadow (id int)", "permission denied for schema public"),
    ],
)
def test_the_app_role_cannot_lift_the_guards(app_role, org, statement, refusal):
    purpose = PurposeFactory(organisation=org)
    grant(DataSubjectFactory(organisation=org), purpose, published_notice(purposes=[purpose]))

    with _connect_as(*app_role) as conn, pytest.raises(psycopg.Error, match=refusal):
        conn.execute(statement)

    assert ConsentEvent.objects.filter(organisation=org).count() == 1
    assert ledger_verify_chain(organisation=org).ok


def test_the_app_role_records_consent_through_the_services(app_role, org):
    """The app's own code path (lock the head, append, keep the state) needs only row privileges."""
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    subject = DataSubjectFactory(organisation=org)
    role, _ = app_role
    with connection.cursor() as cursor:
        # Privileges are checked against the current role: this session now acts as the app.
        cursor.execute(f'SET ROLE "{role}"')
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (role,)
    try:
        grant(subject, purpose, notice)
        assert ledger_verify_chain(organisation=org).ok
        with (
            pytest.raises(ProgrammingError, match="permission denied"),
            connection.cursor() as cursor,
        ):
            cursor.execute("TRUNCATE consents_consentstate")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert ConsentEvent.objects.filter(organisation=org).count() == 1


def test_tables_of_later_migrations_are_granted_to_the_app_role(app_role):
    """ALTER DEFAULT PRIVILEGES: a table the owner creates later is writable by the app at once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE constancia_later_migration"
            " (id int GENERATED BY DEFAULT AS IDENTITY, note text)"
        )

    with _connect_as(*app_role) as conn:
        conn.execute("INSERT INTO constancia_later_migration (note) VALUES ('written by the app')")
        assert conn.execute("SELECT note FROM constancia_later_migration").fetchall() == [
            ("written by the app",)
        ]
        with pytest.raises(psycopg.Error, match="permission denied"):
            conn.execute("TRUNCATE constancia_later_migration")
