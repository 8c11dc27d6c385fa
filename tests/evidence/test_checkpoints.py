"""Signed checkpoints (evidence/checkpoints.py): signed with the organisation's certificate,
checkable with OpenSSL, kept outside the database, brought back by the DPO, and carried in
every pack and certificate, whose standalone verifier holds the chain against them."""

import base64
import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consents import checkpoints as consent_checkpoints
from consents import services
from consents.models import ConsentEvent, IntegrityCheck, LedgerCheckpoint
from evidence.certificates import certificate_records
from evidence.checkpoints import checkpoint_open, checkpoint_sign, checkpoint_upload
from evidence.packs import PackScope, build_pack
from evidence.signing import certificate_upload
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice
from tests.consents.tampering import guards_dropped, rewind
from tests.evidence.conftest import SIGNER_P12_PASSWORD

pytestmark = pytest.mark.django_db

OPENSSL = shutil.which("openssl")
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


@pytest.fixture
def signed_org(org, pki):
    """Five events, the organisation signing with the test PKI's document signer (fast EC)."""
    certificate_upload(
        organisation=org, pkcs12_data=pki.pkcs12(pki.signer), password=SIGNER_P12_PASSWORD
    )
    purpose = PurposeFactory(organisation=org, code="marketing")
    notice = published_notice(purposes=[purpose])
    people = [DataSubjectFactory(organisation=org) for _ in range(3)]
    for person in people + people[:2]:
        grant(person, purpose, notice)
    return org


def _forget(org) -> None:
    """Delete the organisation's checkpoints and earlier checks, with the triggers dropped (the
    database refuses to delete a signed checkpoint otherwise)."""
    with guards_dropped():
        LedgerCheckpoint.objects.filter(organisation=org).delete()
        IntegrityCheck.objects.filter(organisation=org).delete()
    assert not LedgerCheckpoint.objects.filter(organisation=org).exists()


def _bundle(checkpoint) -> bytes:
    return consent_checkpoints.bundle_bytes(checkpoint)


# --- signing ---------------------------------------------------------------------------------


def test_a_checkpoint_is_signed_by_the_organisations_certificate(signed_org, pki):
    checkpoint = checkpoint_sign(organisation=signed_org, sequence=5, head_hash="a" * 64)
    assert checkpoint.certificate_pem.startswith(pki.signer.pem)
    opened = checkpoint_open(organisation=signed_org, data=_bundle(checkpoint))
    assert (opened.sequence, opened.head_hash) == (5, "a" * 64)
    assert opened.statement == checkpoint.statement


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")
def test_openssl_verifies_the_signature_and_refuses_a_changed_statement(signed_org, tmp_path):
    checkpoint = checkpoint_sign(organisation=signed_org, sequence=5, head_hash="b" * 64)
    bundle = json.loads(_bundle(checkpoint))
    (tmp_path / "checkpoint.json").write_text(bundle["statement"], encoding="utf-8")
    (tmp_path / "checkpoint.p7s").write_bytes(base64.b64decode(bundle["signature_cms_der_base64"]))
    (tmp_path / "signer-certificate.pem").write_text(bundle["signer_certificate_pem"])
    command = bundle["how_to_verify"].split("then: ", 1)[1].split()
    good = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert good.returncode == 0 and "CMS Verification successful" in good.stderr
    (tmp_path / "checkpoint.json").write_text(
        bundle["statement"].replace('"sequence":5', '"sequence":9')
    )
    bad = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0 and "Verification failure" in bad.stderr


def test_a_timestamp_authority_stamps_the_statement(signed_org, pki):
    from asn1crypto import cms

    checkpoint = checkpoint_sign(
        organisation=signed_org,
        sequence=1,
        head_hash="c" * 64,
        timestamper=pki.dummy_timestamper(),
    )
    token = cms.ContentInfo.load(bytes(checkpoint.timestamp_token))
    info = token["content"]["encap_content_info"]["content"].parsed
    imprint = info["message_imprint"]["hashed_message"].native
    assert imprint == hashlib.sha256(checkpoint.statement.encode()).digest()


def test_checkpoints_are_written_to_the_export_directory(signed_org, settings, tmp_path):
    settings.CHECKPOINT_EXPORT_DIR = str(tmp_path / "outside")
    check = services.ledger_verify(organisation=signed_org)
    checkpoint = LedgerCheckpoint.objects.get(organisation=signed_org)
    written = tmp_path / "outside" / signed_org.slug / f"{checkpoint.file_stem}.json"
    assert json.loads(written.read_text())["statement"] == checkpoint.statement
    assert check.ok


@pytest.fixture
def bucket(settings, monkeypatch):
    """An S3 bucket (moto's, in memory) as the storage CHECKPOINT_EXPORT_BUCKET configures."""
    import boto3
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-south-2",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-south-2")
        s3.create_bucket(
            Bucket="dpo-archive",
            CreateBucketConfiguration={"LocationConstraint": "eu-south-2"},
        )
        settings.STORAGES = {
            **settings.STORAGES,
            "checkpoints": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": "dpo-archive",
                    "location": "constancia",
                    "file_overwrite": False,
                    "default_acl": None,
                },
            },
        }
        yield s3


def _objects(s3) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket="dpo-archive").get("Contents", [])
    return {
        o["Key"]: s3.get_object(Bucket="dpo-archive", Key=o["Key"])["Body"].read() for o in listed
    }


def test_checkpoints_are_written_to_an_s3_bucket(signed_org, bucket):
    check = services.ledger_verify(organisation=signed_org)
    checkpoint = LedgerCheckpoint.objects.get(organisation=signed_org)

    written = _objects(bucket)
    key = f"constancia/{signed_org.slug}/{checkpoint.file_stem}.json"
    assert list(written) == [key]
    assert json.loads(written[key])["statement"] == checkpoint.statement
    assert check.ok
    # Uploaded back from the archive, the copy is a checkpoint the register accepts.
    assert (
        checkpoint_open(organisation=signed_org, data=written[key]).sequence == checkpoint.sequence
    )


def test_a_checkpoint_in_the_bucket_is_never_overwritten(signed_org, bucket):
    from evidence import checkpoints as evidence_checkpoints

    services.ledger_verify(organisation=signed_org)
    checkpoint = LedgerCheckpoint.objects.get(organisation=signed_org)
    (key,) = _objects(bucket)
    bucket.put_object(Bucket="dpo-archive", Key=key, Body=b"kept as the DPO left it")

    evidence_checkpoints._export(checkpoint)

    assert _objects(bucket) == {key: b"kept as the DPO left it"}


def test_a_bucket_that_refuses_still_leaves_the_checkpoint_signed(signed_org, bucket, caplog):
    bucket.delete_bucket(Bucket="dpo-archive")

    check = services.ledger_verify(organisation=signed_org)

    assert check.ok and LedgerCheckpoint.objects.filter(organisation=signed_org).count() == 1
    assert "not written to the checkpoints storage" in caplog.text


def test_checkpoints_are_emailed_to_the_dpo_when_asked(signed_org, dpo, settings):
    settings.CHECKPOINT_EMAIL = True
    services.ledger_verify(organisation=signed_org)
    (message,) = mail.outbox
    assert dpo.email in message.to
    name, content, _type = message.attachments[0]
    assert name.endswith(".json") and json.loads(content)["statement"]


def test_no_email_by_default(signed_org, dpo):
    services.ledger_verify(organisation=signed_org)
    assert mail.outbox == []


def test_a_signing_failure_still_records_the_verification(signed_org, monkeypatch, caplog):
    from evidence import checkpoints

    def broken(**kwargs):
        raise ValidationError("certificate cannot be opened")

    monkeypatch.setattr(checkpoints, "checkpoint_sign", broken)
    check = services.ledger_verify(organisation=signed_org)
    assert check.ok and IntegrityCheck.objects.filter(pk=check.pk).exists()
    assert not LedgerCheckpoint.objects.exists()
    assert "No checkpoint signed" in caplog.text


# --- a checkpoint from the DPO's archive -----------------------------------------------------


def test_an_archived_checkpoint_catches_a_rewound_ledger_whose_records_were_deleted(signed_org):
    services.ledger_verify(organisation=signed_org)
    archived = _bundle(LedgerCheckpoint.objects.get(organisation=signed_org))
    rewind(signed_org, keep=3)
    # Whoever rewound the head removed every trace the database kept of it.
    _forget(signed_org)
    assert services.ledger_verify(organisation=signed_org).ok

    check = checkpoint_upload(organisation=signed_org, data=archived, uploaded_by=None)

    assert not check.ok and check.broken_sequence == 4
    assert "uploaded checkpoint" in check.reason and "#5" in check.reason
    # Kept: from now on every verification holds the chain against it too.
    assert LedgerCheckpoint.objects.filter(organisation=signed_org, sequence=5).exists()
    assert not services.ledger_verify(organisation=signed_org).ok


def test_uploading_on_the_ledger_page_reports_the_break(client, dpo, signed_org):
    services.ledger_verify(organisation=signed_org)
    archived = _bundle(LedgerCheckpoint.objects.get(organisation=signed_org))
    rewind(signed_org, keep=4)
    _forget(signed_org)
    client.force_login(dpo)
    url = reverse("evidence:checkpoint_upload", kwargs={"org_slug": signed_org.slug})
    response = client.post(
        url, {"file": SimpleUploadedFile("c.json", archived, "application/json")}, follow=True
    )
    page = response.content.decode()
    assert "broken at reference #5" in page and "events #5 to #5 were removed" in page


def test_an_intact_ledger_passes_against_its_archived_checkpoint(client, auditor, signed_org):
    services.ledger_verify(organisation=signed_org)
    archived = _bundle(LedgerCheckpoint.objects.get(organisation=signed_org))
    client.force_login(auditor)
    url = reverse("evidence:checkpoint_upload", kwargs={"org_slug": signed_org.slug})
    response = client.post(url, {"file": SimpleUploadedFile("c.json", archived)}, follow=True)
    assert "still holds the uploaded checkpoint" in response.content.decode()
    # The uploaded statement is known already: not stored twice.
    statement = json.loads(archived)["statement"]
    assert LedgerCheckpoint.objects.filter(statement=statement).count() == 1


def _altered(bundle: bytes, **changes) -> bytes:
    content = json.loads(bundle)
    content.update(changes)
    return json.dumps(content).encode()


def _bad_uploads(signed_org, other_org):
    checkpoint = checkpoint_sign(organisation=signed_org, sequence=5, head_hash="d" * 64)
    good = _bundle(checkpoint)
    statement = json.loads(checkpoint.statement)
    forged = json.dumps(statement | {"sequence": 2}, sort_keys=True, separators=(",", ":"))
    foreign = json.dumps(statement | {"organisation": other_org.pk})
    other = checkpoint_sign(organisation=other_org, sequence=0, head_hash="0" * 64)
    other_bundle = json.loads(_bundle(other))
    stolen = _altered(
        good,
        statement=other_bundle["statement"].replace(
            f'"organisation":{other_org.pk}', f'"organisation":{signed_org.pk}'
        ),
        signature_cms_der_base64=other_bundle["signature_cms_der_base64"],
    )
    return {
        "not JSON": (b"\x89PNG\r\n", "not a Constancia ledger checkpoint"),
        "too large": (b"{" + b" " * 70_000 + b"}", "too large"),
        "other JSON": (b'{"format": "something else"}', "not a Constancia ledger checkpoint"),
        "no signature": (_altered(good, signature_cms_der_base64="@@@"), "has no"),
        "garbage signature": (
            _altered(good, signature_cms_der_base64=base64.b64encode(b"x" * 40).decode()),
            "cannot be read",
        ),
        "forged statement": (_altered(good, statement=forged), "was altered"),
        "another organisation": (_altered(good, statement=foreign), "another organisation"),
        "another organisation's key": (stolen, "not signed with any certificate"),
    }


def test_bad_checkpoint_files_are_refused_with_a_message(signed_org, other_org):
    for label, (data, words) in _bad_uploads(signed_org, other_org).items():
        before = (LedgerCheckpoint.objects.count(), IntegrityCheck.objects.count())
        with pytest.raises(ValidationError) as refused:
            checkpoint_upload(organisation=signed_org, data=data, uploaded_by=None)
        assert words in " ".join(refused.value.messages), label
        assert (LedgerCheckpoint.objects.count(), IntegrityCheck.objects.count()) == before


def test_a_bad_upload_on_the_page_shows_a_message_not_an_error(client, dpo, signed_org):
    client.force_login(dpo)
    url = reverse("evidence:checkpoint_upload", kwargs={"org_slug": signed_org.slug})
    response = client.post(url, {"file": SimpleUploadedFile("x.json", b"nope")}, follow=True)
    assert response.status_code == 200
    assert "not a Constancia ledger checkpoint" in response.content.decode()
    response = client.post(url, {}, follow=True)
    assert "Choose a checkpoint file" in response.content.decode()


# --- packs and certificates ------------------------------------------------------------------


def _pack(org, tmp_path) -> Path:
    path = tmp_path / "pack.zip"
    build_pack(organisation=org, scope=PackScope(), path=path)
    folder = tmp_path / "pack"
    with zipfile.ZipFile(path) as pack:
        pack.extractall(folder)
    return folder


def _verifier(folder):
    return subprocess.run(
        [SYSTEM_PYTHON or "python3", "-I", "verify_chain.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={},
    )


def test_a_pack_carries_its_checkpoints_and_its_verifier_checks_them(signed_org, tmp_path):
    services.ledger_verify(organisation=signed_org)
    folder = _pack(signed_org, tmp_path)
    index = json.loads((folder / "checkpoints" / "checkpoints.json").read_text())
    assert [(c["sequence"], c["head_hash"]) for c in index] == [
        (5, ConsentEvent.objects.get(organisation=signed_org, sequence=5).hash)
    ]
    assert (folder / index[0]["signature"]).exists()
    assert index[0]["statement"] in (folder / "SHA256SUMS").read_text()
    result = _verifier(folder)
    assert result.returncode == 0, result.stdout
    assert "1 signed checkpoints checked" in result.stdout


def test_a_pack_of_a_rewound_ledger_fails_its_own_verifier(signed_org, tmp_path):
    services.ledger_verify(organisation=signed_org)
    rewind(signed_org, keep=3)
    folder = _pack(signed_org, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["ledger"]["ok"] is False and manifest["ledger"]["head_sequence"] == 3
    result = _verifier(folder)
    assert result.returncode == 1
    assert result.stdout.startswith("BROKEN at sequence 4:")
    assert "went backwards" in result.stdout and "#5" in result.stdout


def test_the_verifier_names_an_event_whose_hash_differs_from_its_checkpoint(signed_org, tmp_path):
    services.ledger_verify(organisation=signed_org)
    folder = _pack(signed_org, tmp_path)
    index_path = folder / "checkpoints" / "checkpoints.json"
    index = json.loads(index_path.read_text())
    statement = folder / index[0]["statement"]
    forged = json.loads(statement.read_text()) | {"sequence": 2}
    statement.write_text(json.dumps(forged))
    index[0]["sequence"] = 2
    index_path.write_text(json.dumps(index))
    result = _verifier(folder)
    assert result.returncode == 1
    assert result.stdout.startswith("BROKEN at sequence 2:") and "checkpoint" in result.stdout


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")
def test_the_openssl_commands_in_verify_txt_print_what_it_says(signed_org, tmp_path):
    services.ledger_verify(organisation=signed_org)
    grant(*_first_event_parts(signed_org))
    services.ledger_verify(organisation=signed_org)
    folder = _pack(signed_org, tmp_path)
    text = (folder / "VERIFY.txt").read_text()
    assert 'must print "CMS Verification successful"' in " ".join(text.split())
    loop = text.split("Every checkpoint at once:", 1)[1].split("verify_chain.py checks", 1)[0]
    script = "\n".join(line[4:] for line in loop.splitlines() if line.startswith("    "))
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=folder,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0
    assert result.stderr.count("CMS Verification successful") == 2, result.stderr


def _first_event_parts(org):
    event = ConsentEvent.objects.get(organisation=org, sequence=1)
    return event.subject, event.purpose, event.notice_version


def test_a_certificate_carries_the_latest_checkpoint(signed_org):
    services.ledger_verify(organisation=signed_org)
    latest = LedgerCheckpoint.objects.get(organisation=signed_org)
    subject = ConsentEvent.objects.get(organisation=signed_org, sequence=1).subject
    records = certificate_records(subject=subject)
    assert records["ledger_checkpoint"]["statement"] == latest.statement
