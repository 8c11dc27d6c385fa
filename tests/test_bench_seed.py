"""The benchmark's seed writes what the app itself would: a chain that verifies, and rows every
constraint accepts (a seed that breaks on a new constraint must fail here, not on the bench
machine). PostgreSQL only: the seed writes with COPY."""

import json

import pytest
from django.db import connection

from accounts.models import Organisation
from bench.pack import build_json
from bench.seed import seed
from consents.models import ConsentState, DataSubject
from consents.services import ledger_verify_chain


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("The seed writes with COPY: PostgreSQL only (set DATABASE_URL; CI does).")


def test_a_small_seed_verifies_and_keeps_every_constraint(postgres_only):
    seed(slug="seed-check", subjects=1_000, events=3_000, log=lambda message: None)
    organisation = Organisation.objects.get(slug="seed-check")
    result = ledger_verify_chain(organisation=organisation)
    assert result.ok and result.events_checked == result.head_sequence >= 3_000
    people = DataSubject.objects.filter(organisation=organisation)
    assert people.count() == 1_000
    blocked = people.filter(status=DataSubject.Status.BLOCKED)
    assert blocked.exists() and not blocked.filter(purge_after__isnull=True).exists()
    assert ConsentState.objects.filter(organisation=organisation).exists()
    # A second seed of the same sizes adds nothing.
    seed(slug="seed-check", subjects=1_000, events=3_000, log=lambda message: None)
    assert ledger_verify_chain(organisation=organisation).head_sequence == result.head_sequence


def test_the_pack_benchmark_builds_a_small_pack_and_times_its_phases(
    postgres_only, tmp_path, settings, monkeypatch
):
    # The probe wraps what build_pack calls by name: a rename there must fail here, not on the
    # bench machine. Its wrappers are undone after the test.
    from evidence import certificates, packs, signing
    from evidence import pdf as evidence_pdf

    for owner, name in [
        (packs.HashingZip, "open"),
        (packs._HashingWriter, "close"),
        (certificates, "certificate_pdf"),
        (certificates, "ledger_verify_checked"),
        (packs, "ledger_verify_checked"),
        (evidence_pdf, "render_pdf"),
        (signing, "sign_pdf"),
    ]:
        monkeypatch.setattr(owner, name, getattr(owner, name))
    settings.PACK_CERTIFICATE_LIMIT = 2
    seed(slug="pack-check", subjects=30, events=120, log=lambda message: None)

    built = json.loads(build_json(slug="pack-check", out=str(tmp_path / "pack.zip")))

    assert built["ledger_ok"] and 0 < built["subjects"] <= 30  # blocked people are left out
    assert {"start", "records", "certificates", "summary"} <= {m["phase"] for m in built["marks"]}
    assert len(built["calls"]["certificates"]["render"]) >= 2  # one per certificate
