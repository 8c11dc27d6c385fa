"""Evidence packs: what an inquiry receives, checked with public tools and our verification."""

import csv
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image

from consents import services
from consents.uploads import inspect_upload
from evidence.packs import PackScope, build_pack
from evidence.verification import verify_upload
from tests.consents.factories import (
    DataSubjectFactory,
    PurposeFactory,
    grant,
    published_notice,
    withdraw,
)

pytestmark = pytest.mark.django_db


def png():
    out = io.BytesIO()
    Image.new("RGB", (6, 6), "red").save(out, format="PNG")
    return SimpleUploadedFile("firma.png", out.getvalue(), content_type="image/png")


@pytest.fixture
def register(org, staff):
    """Two purposes; marketing events in October and in November, one with a photo proof."""
    marketing = PurposeFactory(organisation=org, code="marketing", name="Promociones")
    documents = PurposeFactory(organisation=org, code="documents", name="Documentos")
    notice = published_notice(purposes=[marketing, documents])
    tz = timezone.get_current_timezone()
    people = [
        DataSubjectFactory(organisation=org, full_name=name)
        for name in ("Lucía Pérez", "مريم العلوي", "Jordi Puig")
    ]
    proof = services.proof_create(
        organisation=org, subject=people[0], quote="Sí, acepto", files=[inspect_upload(png())]
    )
    for day, subject, purpose in [
        (datetime(2026, 10, 5, 10, tzinfo=tz), people[0], marketing),
        (datetime(2026, 11, 3, 12, tzinfo=tz), people[1], marketing),
        (datetime(2026, 11, 4, 9, tzinfo=tz), people[2], documents),
    ]:
        grant(
            subject,
            purpose,
            notice,
            captured_at=day,
            recorded_by=staff,
            proof=proof if subject == people[0] else None,
        )
    return {"people": people, "marketing": marketing}


def build(org, tmp_path, scope):
    path = tmp_path / "pack.zip"
    manifest = build_pack(organisation=org, scope=scope, path=path)
    return path, manifest


def test_a_pack_for_a_purpose_over_a_date_range_holds_exactly_those_events(org, register, tmp_path):
    scope = PackScope(
        purposes=["marketing"],
        date_from=datetime(2026, 11, 1).date(),
        date_to=datetime(2026, 11, 30).date(),
    )
    path, manifest = build(org, tmp_path, scope)
    with zipfile.ZipFile(path) as pack:
        names = set(pack.namelist())
        records = json.loads(pack.read("records.json"))
        rows = list(csv.DictReader(io.StringIO(pack.read("records.csv").decode())))
        subjects = pack.read("subjects.csv").decode()
    assert [r["sequence"] for r in records] == [2] and rows[0]["sequence"] == "2"
    assert "مريم العلوي" in subjects and "Lucía" not in subjects
    assert {"summary.pdf", "manifest.json", "SHA256SUMS", "VERIFY.txt"} <= names
    assert {
        "signer-certificate.pem",
        f"certificates/subject-{register['people'][1].pk}.pdf",
    } <= names
    assert manifest["events"] == 1 and manifest["ledger"]["ok"]


def test_sha256sum_accepts_the_manifest_and_the_signed_summary_validates(org, register, tmp_path):
    path, _ = build(org, tmp_path, PackScope())
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as pack:
        pack.extractall(folder)
        assert any(n.startswith("proofs/") and n.endswith(".png") for n in pack.namelist())
    if shutil.which("sha256sum"):
        result = subprocess.run(
            ["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count(": OK") == len(result.stdout.splitlines())
    with open(path, "rb") as handle:
        report = verify_upload(
            organisation=org, uploaded=SimpleUploadedFile("p.zip", handle.read())
        )
    assert report.ok, [(c.label, c.detail) for c in report.checks if not c.ok]


def test_a_modified_file_in_the_pack_fails_verification(org, register, tmp_path):
    path, _ = build(org, tmp_path, PackScope())
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "records.csv":
                data = data.replace(b"whatsapp", b"in_person", 1)
            target.writestr(item, data)
    report = verify_upload(
        organisation=org, uploaded=SimpleUploadedFile("t.zip", tampered.read_bytes())
    )
    assert not report.ok
    failed = [c.detail for c in report.checks if not c.ok]
    assert any("records.csv was changed" in d for d in failed)


def test_an_older_pack_still_verifies_after_new_events(org, register, tmp_path, staff):
    path, _ = build(org, tmp_path, PackScope())
    withdraw(register["people"][0], register["marketing"], recorded_by=staff)
    report = verify_upload(
        organisation=org, uploaded=SimpleUploadedFile("p.zip", path.read_bytes())
    )
    assert report.ok


def test_the_pack_command_writes_the_same_pack_from_the_command_line(org, register, tmp_path):
    output = tmp_path / "cli.zip"
    call_command(
        "export_pack",
        "--org",
        org.slug,
        "--purpose",
        "marketing",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "-o",
        str(output),
    )
    with zipfile.ZipFile(output) as pack:
        assert [r["sequence"] for r in json.loads(pack.read("records.json"))] == [1]
    with pytest.raises(CommandError, match="Unknown purpose"):
        call_command("export_pack", "--org", org.slug, "--purpose", "nope", "-o", str(output))
    with pytest.raises(CommandError, match="before"):
        call_command(
            "export_pack",
            "--org",
            org.slug,
            "--from",
            "2026-12-01",
            "--to",
            "2026-11-01",
            "-o",
            str(output),
        )


def _export_certificate(org, subject: str, tmp_path) -> bytes:
    """What the export_certificate command writes for ``subject`` (an id or a phone)."""
    output = tmp_path / "c.pdf"
    call_command(
        "export_certificate",
        "--org",
        org.slug,
        "--subject",
        subject,
        "-o",
        str(output),
    )
    return output.read_bytes()


def test_the_certificate_command_finds_the_person_by_phone(org, register, tmp_path):
    subject = register["people"][2]
    pdf = _export_certificate(org, subject.phone.as_national, tmp_path)
    assert pdf.startswith(b"%PDF-")
    report = verify_upload(organisation=org, uploaded=SimpleUploadedFile("c.pdf", pdf))
    assert report.ok, [(c.label, c.detail) for c in report.checks if not c.ok]
    with pytest.raises(CommandError, match="No person"):
        call_command("export_certificate", "--org", org.slug, "--subject", "600000000", "-o", "x")


def test_a_certificate_with_one_changed_byte_fails_verification(org, register, tmp_path):
    data = bytearray(_export_certificate(org, str(register["people"][0].pk), tmp_path))
    position = data.index(b"/Contents", len(data) // 3)  # inside the signed page content
    data[position + 1] ^= 0x01
    report = verify_upload(organisation=org, uploaded=SimpleUploadedFile("c.pdf", bytes(data)))
    assert not report.ok
    details = " ".join(c.detail for c in report.checks if not c.ok)
    assert "The document was changed after signing" in details
    assert "not one of ours" not in details  # a changed file is not a stranger's signature


def test_files_past_their_retention_expire_but_the_job_stays(org, register, dpo):
    from jobs import services as jobs
    from jobs.models import Job

    job = Job.objects.create(organisation=org, kind="pack", parameters=PackScope().to_parameters())
    from jobs.tasks import run_job

    assert run_job.apply(args=[job.pk]).get() == "done"
    job.refresh_from_db()
    assert job.result and job.status == "done"
    assert jobs.jobs_expire_files(now=timezone.now() + timedelta(days=31)) == 1
    job.refresh_from_db()
    assert job.result_expired and job.status == "done"


def test_the_public_pyhanko_command_accepts_the_signed_summary(org, register, tmp_path):
    pyhanko = shutil.which("pyhanko") or str(Path(sys.executable).parent / "pyhanko")
    if not Path(pyhanko).exists():
        pytest.skip("pyhanko-cli is not installed (pip install pyhanko-cli)")
    path, _ = build(org, tmp_path, PackScope())
    with zipfile.ZipFile(path) as pack:
        pack.extract("summary.pdf", tmp_path)
        pack.extract("signer-certificate.pem", tmp_path)
    command = [
        pyhanko,
        "sign",
        "validate",
        "--trust",
        "signer-certificate.pem",
        "--trust-replace",
        "summary.pdf",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "INTACT:TRUSTED" in result.stdout
    summary = tmp_path / "summary.pdf"
    data = bytearray(summary.read_bytes())
    data[len(data) // 3] ^= 0x01
    summary.write_bytes(bytes(data))
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode != 0 and "INTACT:TRUSTED" not in result.stdout


def test_a_pack_verifies_the_chain_once_and_hands_it_to_every_certificate(
    org, register, tmp_path, monkeypatch
):
    from consents.services import ledger_verify_checked
    from evidence import certificates, packs

    calls = []

    def counting(**kwargs):
        calls.append(kwargs)
        return ledger_verify_checked(**kwargs)

    # The chain and its checkpoints (ledger_verify_checked), checked once per pack.
    monkeypatch.setattr(packs, "ledger_verify_checked", counting)
    monkeypatch.setattr(certificates, "ledger_verify_checked", counting)
    path, manifest = build(org, tmp_path, PackScope())
    assert len(calls) == 1
    with zipfile.ZipFile(path) as pack:
        assert len([n for n in pack.namelist() if n.startswith("certificates/")]) == 3


@pytest.fixture
def ropa(org, dpo):
    """An activity created on 1 Nov 2026 whose retention changes on 10 Dec 2026."""
    import time_machine

    from processing import services as processing
    from tests.processing.factories import activity

    with time_machine.travel("2026-11-01 10:00 +01:00", tick=False):
        made = activity(org, user=dpo, retention="12 meses")
    with time_machine.travel("2026-12-10 10:00 +01:00", tick=False):
        processing.activity_update(activity=made, data={"retention": "6 meses"}, user=dpo)
    return made


def test_a_pack_carries_the_record_of_processing_as_it_stood_on_its_end_date(
    org, register, ropa, tmp_path
):
    from evidence.signing import certificate_trust_roots, validate_pdf

    scope = PackScope(date_to=datetime(2026, 11, 30).date())
    path, manifest = build(org, tmp_path, scope)

    with zipfile.ZipFile(path) as pack:
        rows = list(csv.DictReader(io.StringIO(pack.read("ropa.csv").decode("utf-8-sig"))))
        pdf = pack.read("ropa.pdf")
        sums = pack.read("SHA256SUMS").decode()
    assert [r["retention"] for r in rows] == ["12 meses"]
    report = validate_pdf(pdf=pdf, trust_roots=certificate_trust_roots(org))
    assert report.intact and report.valid and report.trusted
    names = [f["name"] for f in manifest["files"]]
    assert {"ropa.pdf", "ropa.csv"} <= set(names)
    assert names.index("ropa.pdf") < names.index("summary.pdf")  # covered by files.json
    assert "  ropa.pdf\n" in sums
    entry = manifest["sections"]["ropa"]
    assert entry["files"] == ["ropa.pdf", "ropa.csv"] and entry["activities"] == 1
    assert entry["as_of"].startswith("2026-11-30T23:59:59")
    assert manifest["scope"]["ropa"] is True


def test_a_pack_without_the_record_of_processing_holds_none_of_it(org, register, ropa, tmp_path):
    path, manifest = build(org, tmp_path, PackScope(ropa=False))

    with zipfile.ZipFile(path) as pack:
        assert not {"ropa.pdf", "ropa.csv"} & set(pack.namelist())
    assert "ropa" not in manifest["sections"]


def test_the_record_of_processing_is_on_by_default_in_the_form_and_old_jobs(
    client, org, dpo, django_capture_on_commit_callbacks
):
    from jobs.models import Job

    assert PackScope.from_parameters({}).ropa is True
    client.force_login(dpo)
    form = client.get(f"/o/{org.slug}/evidence/pack/").content.decode()
    (tag,) = re.findall(r'<input[^>]*name="ropa"[^>]*>', form)
    assert "checked" in tag

    with django_capture_on_commit_callbacks(execute=False):
        client.post(f"/o/{org.slug}/evidence/pack/", {"date_to": "2026-11-30"})

    assert Job.objects.get(kind="pack").parameters["ropa"] is False


def test_the_pack_command_can_leave_the_record_of_processing_out(org, register, ropa, tmp_path):
    with_ropa, without = tmp_path / "with.zip", tmp_path / "without.zip"

    call_command("export_pack", "--org", org.slug, "-o", str(with_ropa), stdout=io.StringIO())
    call_command(
        "export_pack", "--org", org.slug, "--no-ropa", "-o", str(without), stdout=io.StringIO()
    )

    with zipfile.ZipFile(with_ropa) as pack:
        assert {"ropa.pdf", "ropa.csv"} <= set(pack.namelist())
    with zipfile.ZipFile(without) as pack:
        assert "ropa.pdf" not in pack.namelist()
