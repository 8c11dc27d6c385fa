"""Signed checkpoints pin the chain head (consents/checkpoints.py): removing the newest events
and rewinding LedgerHead, or rewriting the chain with recomputed hashes, no longer verifies.

Each attack runs on the database with the ledger's triggers dropped, as the table owner could;
the suite runs these on SQLite and, with DATABASE_URL, on PostgreSQL.
"""

import json

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from consents import chain, services
from consents.models import (
    GENESIS_HASH,
    ConsentEvent,
    IntegrityCheck,
    LedgerCheckpoint,
    LedgerHead,
)
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice
from tests.consents.tampering import guards_dropped, rewind, tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_events(org):
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    subject = DataSubjectFactory(organisation=org)
    for _ in range(5):
        grant(subject, purpose, notice)
    return org


def _rewrite_from(org, sequence: int) -> None:
    """Change event #sequence and recompute every hash after it: a chain that verifies."""
    events = list(ConsentEvent.objects.filter(organisation=org).order_by("sequence"))
    previous = events[sequence - 2].hash if sequence > 1 else GENESIS_HASH
    rows = []
    for event in events[sequence - 1 :]:
        if event.sequence == sequence:
            event.user_agent = "rewritten"
        event.prev_hash = previous
        event.hash = chain.event_hash(previous, event.canonical())
        # A thorough forger rewrites the stored canonical text too, so the chain verifies.
        text = chain.canonical_json(event.canonical())
        rows.append((event.user_agent, event.prev_hash, event.hash, text, event.pk))
        previous = event.hash
    with guards_dropped(), connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE consents_consentevent SET user_agent = %s, prev_hash = %s, hash = %s,"
            " canonical_text = %s WHERE id = %s",
            rows,
        )
        cursor.execute(
            "UPDATE consents_ledgerhead SET hash = %s WHERE organisation_id = %s",
            [previous, org.pk],
        )


def test_a_successful_verification_signs_a_checkpoint_of_its_head(five_events):
    org = five_events
    check = services.ledger_verify(organisation=org, triggered_by="test")
    checkpoint = LedgerCheckpoint.objects.get(organisation=org)
    head = LedgerHead.objects.get(organisation=org)
    assert (checkpoint.sequence, checkpoint.head_hash) == (5, head.hash) == (5, check.head_hash)
    statement = json.loads(checkpoint.statement)
    assert statement["organisation"] == org.pk and statement["sequence"] == 5
    assert statement["head_hash"] == head.hash and statement["at"]
    assert bytes(checkpoint.signature)


def test_removing_the_newest_events_and_rewinding_the_head_is_caught(five_events):
    org = five_events
    services.ledger_verify(organisation=org)
    rewind(org, keep=3)
    # The chain that is left is internally sound: only the checkpoint shows what is missing.
    assert services.ledger_verify_chain(organisation=org).ok

    check = services.ledger_verify(organisation=org)

    assert not check.ok
    assert check.broken_sequence == 4
    assert "#5" in check.reason and "ends at #3" in check.reason and "removed" in check.reason
    assert "checkpoint" in check.reason
    # A broken chain is never signed: the newest checkpoint is still the one of #5.
    assert LedgerCheckpoint.objects.filter(organisation=org).count() == 1


def test_earlier_checks_catch_a_rewound_head_when_the_checkpoints_were_deleted(five_events):
    org = five_events
    services.ledger_verify(organisation=org)
    rewind(org, keep=2)
    tamper("DELETE FROM consents_ledgercheckpoint WHERE organisation_id = %s", [org.pk])
    assert not LedgerCheckpoint.objects.filter(organisation=org).exists()

    check = services.ledger_verify(organisation=org)

    assert not check.ok and check.broken_sequence == 3
    assert "verification of" in check.reason and "#5" in check.reason


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consents_ledgercheckpoint SET sequence = 3, head_hash = 'x'",
        "DELETE FROM consents_ledgercheckpoint",
    ],
)
def test_the_database_keeps_signed_checkpoints_as_they_were_signed(five_events, statement):
    org = five_events
    services.ledger_verify(organisation=org)
    signed = LedgerCheckpoint.objects.get(organisation=org)
    with (
        pytest.raises(IntegrityError, match="signed checkpoints are kept"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    kept = LedgerCheckpoint.objects.get(organisation=org)
    assert (kept.pk, kept.sequence, kept.head_hash) == (signed.pk, 5, signed.head_hash)


def test_a_chain_rewritten_with_recomputed_hashes_is_caught_at_the_checkpoint(five_events):
    org = five_events
    services.ledger_verify(organisation=org)
    _rewrite_from(org, 2)
    assert services.ledger_verify_chain(organisation=org).ok

    check = services.ledger_verify(organisation=org)

    assert not check.ok and check.broken_sequence == 5
    assert "no longer has that hash" in check.reason


def test_the_lowest_contradiction_is_named(five_events):
    org = five_events
    services.ledger_verify(organisation=org)
    grant(
        ConsentEvent.objects.get(organisation=org, sequence=1).subject,
        ConsentEvent.objects.get(organisation=org, sequence=1).purpose,
        ConsentEvent.objects.get(organisation=org, sequence=1).notice_version,
    )
    services.ledger_verify(organisation=org)  # checkpoints at #5 and #6
    _rewrite_from(org, 4)

    check = services.ledger_verify(organisation=org)

    assert check.broken_sequence == 5


def test_the_verify_command_reports_the_rewound_head(five_events, capsys):
    org = five_events
    call_command("verify_ledger", "--org", org.slug)
    assert f"{org.slug}: OK, 5 events" in capsys.readouterr().out
    rewind(org, keep=4)
    with pytest.raises(Exception, match="broken"):
        call_command("verify_ledger", "--org", org.slug)
    out = capsys.readouterr().out
    assert "BROKEN at sequence 5" in out and "#5" in out


def test_the_nightly_task_signs_a_checkpoint_for_every_organisation(five_events, other_org):
    from consents.tasks import verify_all_ledgers

    results = verify_all_ledgers()

    assert results == {five_events.slug: True, other_org.slug: True}
    assert LedgerCheckpoint.objects.get(organisation=five_events).sequence == 5
    # An empty ledger is signed too: "nothing yet" is a head worth pinning.
    assert LedgerCheckpoint.objects.get(organisation=other_org).sequence == 0


def test_verify_now_signs_and_the_ledger_page_lists_the_checkpoint(client, dpo, five_events):
    org = five_events
    client.force_login(dpo)
    url = reverse("consents:ledger", kwargs={"org_slug": org.slug})
    client.post(url)
    checkpoint = LedgerCheckpoint.objects.get(organisation=org)
    page = client.get(url).content.decode()
    download = reverse(
        "consents:checkpoint_download", kwargs={"org_slug": org.slug, "pk": checkpoint.pk}
    )
    assert download in page and "Signed checkpoints" in page


def test_a_checkpoint_downloads_as_an_attachment_holding_the_signed_statement(
    client, auditor, five_events
):
    org = five_events
    services.ledger_verify(organisation=org)
    checkpoint = LedgerCheckpoint.objects.get(organisation=org)
    client.force_login(auditor)
    response = client.get(
        reverse("consents:checkpoint_download", kwargs={"org_slug": org.slug, "pk": checkpoint.pk})
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    bundle = json.loads(response.content)
    assert bundle["statement"] == checkpoint.statement
    assert bundle["signer_certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")


def test_another_organisations_checkpoint_is_not_found(client, outsider, other_org, five_events):
    services.ledger_verify(organisation=five_events)
    checkpoint = LedgerCheckpoint.objects.get(organisation=five_events)
    client.force_login(outsider)
    kwargs = {"org_slug": other_org.slug, "pk": checkpoint.pk}
    response = client.get(reverse("consents:checkpoint_download", kwargs=kwargs))
    assert response.status_code == 404


def test_failed_checks_are_not_taken_as_recorded_heads(five_events):
    org = five_events
    IntegrityCheck.objects.create(
        organisation=org, ok=False, head_sequence=9, head_hash="f" * 64, broken_sequence=9
    )
    assert services.ledger_verify(organisation=org).ok
