"""What a pack tells its reader: who is covered, how to recompute the chain, how to check it.

VERIFY.txt is followed literally here: its commands are run on the extracted pack (pyhanko from
our virtualenv instead of the one it tells the reader to install; the system python3 for the
chain verifier, to prove it needs nothing but the standard library) and every word it tells the
reader to look for must appear in what those commands print.
"""

import csv
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence.packs import PackScope, _id_ranges, build_pack
from evidence.verification import verify_upload
from tests.consents.factories import (
    DataSubjectFactory,
    PurposeFactory,
    grant,
    published_notice,
    withdraw,
)

pytestmark = pytest.mark.django_db

VENV_BIN = Path(sys.executable).parent
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


@pytest.fixture
def five_people(org, staff):
    """Five people with one marketing event each, and a withdrawal for the third."""
    purpose = PurposeFactory(organisation=org, code="marketing", name="Promociones")
    notice = published_notice(purposes=[purpose])
    people = [DataSubjectFactory(organisation=org) for _ in range(4)]
    # A name that a spreadsheet would run as a formula (csv_safe must neutralise it).
    people.append(DataSubjectFactory(organisation=org, full_name='=HYPERLINK("http://x.example")'))
    for person in people:
        grant(person, purpose, notice, recorded_by=staff)
    withdraw(people[2], purpose, recorded_by=staff)
    return people


def extract(org, tmp_path, scope=None):
    path = tmp_path / "pack.zip"
    manifest = build_pack(organisation=org, scope=scope or PackScope(), path=path)
    folder = tmp_path / "pack"
    with zipfile.ZipFile(path) as pack:
        pack.extractall(folder)
    return path, folder, manifest


def verify(org, path):
    return verify_upload(organisation=org, uploaded=SimpleUploadedFile("p.zip", path.read_bytes()))


def run_verifier(folder, *args):
    """The shipped verifier under the system python3, isolated, with an empty environment."""
    return subprocess.run(
        [SYSTEM_PYTHON, "-I", "verify_chain.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env={},
    )


def test_a_pack_above_the_certificate_limit_says_who_has_one_and_how_to_get_the_rest(
    org, five_people, tmp_path, settings
):
    settings.PACK_CERTIFICATE_LIMIT = 3
    path, folder, manifest = extract(org, tmp_path)
    ids = sorted(p.pk for p in five_people)

    assert sorted(p.name for p in (folder / "certificates").iterdir()) == sorted(
        f"subject-{i}.pdf" for i in ids[:3]
    )
    coverage = manifest["certificates"]
    assert coverage["people"] == 5 and coverage["with_certificate"] == 3
    assert coverage["without_certificate"] == 2 and coverage["subject_ids"] == ids[:3]
    assert "export_certificate" in coverage["others"]
    rows = list(csv.DictReader(io.StringIO((folder / "certificates.csv").read_text())))
    assert {int(r["subject_id"]): r["certificate"] for r in rows} == {
        **{i: f"certificates/subject-{i}.pdf" for i in ids[:3]},
        **dict.fromkeys(ids[3:], "not included"),
    }
    assert rows[-1]["full_name"] == '\'=HYPERLINK("http://x.example")'
    subjects = (folder / "subjects.csv").read_text()
    assert '\'=HYPERLINK(""http://x.example"")' in subjects
    verify_text = (folder / "VERIFY.txt").read_text()
    assert "Signed proof-of-consent certificates included: 3 of 5 people." in verify_text
    assert "The other 2 people have no certificate in this pack" in verify_text
    assert f"export_certificate --org {org.slug} --subject <subject_id>" in verify_text
    summary = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(folder / "summary.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    summary = " ".join(summary.split())
    assert "3 de las 5 personas" in summary and "los otros 2" in summary
    assert f"{ids[0]}-{ids[2]}" in summary  # which ones, in the signed text itself

    report = verify(org, path)
    assert report.ok, [(c.label, c.detail) for c in report.checks if not c.ok]
    assert any(c.label.startswith("3 of 3 certificates checked") for c in report.checks)


def test_the_verify_page_says_how_many_certificates_it_checked_when_it_stops_short(
    org, five_people, tmp_path, settings
):
    settings.PACK_CERTIFICATE_LIMIT = 3
    settings.VERIFY_MAX_CERTIFICATES = 2
    path, _, _ = extract(org, tmp_path)
    report = verify(org, path)
    short = next(c for c in report.checks if c.label == "2 of the 3 certificates checked")
    assert not short.ok and "VERIFY.txt" in short.detail
    assert not report.ok

    # Every certificate is checked, and a changed one is named as changed after signing.
    settings.VERIFY_MAX_CERTIFICATES = 1000
    second = f"certificates/subject-{sorted(p.pk for p in five_people)[1]}.pdf"
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = bytearray(source.read(item.filename))
            if item.filename == second:
                data[len(data) // 3] ^= 0x01
            target.writestr(item, bytes(data))
    report = verify(org, tampered)
    certificates = next(c for c in report.checks if c.label.startswith("3 of 3 certificates"))
    assert not certificates.ok
    assert (
        certificates.detail == f"{second}: The document was changed after signing: its bytes "
        "no longer match the signature."
    )


def test_a_pack_within_the_limit_names_no_missing_certificates(org, five_people, tmp_path):
    _, folder, manifest = extract(org, tmp_path)
    assert manifest["certificates"]["without_certificate"] == 0
    assert manifest["certificates"]["others"] == ""
    assert "have no certificate" not in (folder / "VERIFY.txt").read_text()


def test_records_carry_exactly_the_hashed_fields_of_each_event(org, five_people, tmp_path):
    from consents.models import ConsentEvent

    _, folder, _ = extract(org, tmp_path)
    records = json.loads((folder / "records.json").read_text())
    events = {e.sequence: e for e in ConsentEvent.objects.filter(organisation=org)}
    assert [r["sequence"] for r in records] == sorted(events)
    for record in records:
        event = events[record["sequence"]]
        assert record["hashed_fields"] == json.loads(json.dumps(event.canonical()))
        assert (record["prev_hash"], record["hash"]) == (event.prev_hash, event.hash)


def verify_blocks(text: str) -> list[str]:
    """The indented blocks of VERIFY.txt (commands, expected lines), backslash lines joined."""
    blocks, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("    "):
            current.append(line[4:])
        elif current:
            blocks.append("\n".join(current))
            current = []
    return blocks


def looked_for(text: str) -> list[str]:
    """Every word VERIFY.txt tells the reader a command must print."""
    flat = " ".join(text.split())
    phrases = r"must (?:end in|contain|print a first line that starts with)"
    return re.findall(phrases + r' "([^"]+)"', flat)


@pytest.mark.skipif(not shutil.which("sha256sum"), reason="needs coreutils sha256sum")
@pytest.mark.skipif(not (VENV_BIN / "pyhanko").exists(), reason="needs pyhanko-cli")
@pytest.mark.skipif(SYSTEM_PYTHON is None, reason="needs a system python3")
def test_every_command_in_verify_txt_prints_the_words_it_says_to_look_for(
    org, five_people, tmp_path
):
    _, folder, _ = extract(org, tmp_path)
    text = (folder / "VERIFY.txt").read_text()
    assert "S.L.." not in text
    blocks = verify_blocks(text)
    assert "Clínica Dental Norte S.L." in blocks  # the signer's name stands on its own line
    expected_lines = next(b for b in blocks if b.startswith("The signer's certificate"))
    words = looked_for(text)
    assert words == [": OK", ":INTACT:TRUSTED", "OK:"]

    def run(block):
        # The reader's ~/pyhanko-env is our virtualenv here; nothing else is changed.
        script = block.replace("~/pyhanko-env/bin/", f"{VENV_BIN}/")
        return subprocess.run(
            ["bash", "-c", script],
            cwd=folder,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )

    sums = run(next(b for b in blocks if b.startswith("sha256sum")))
    assert sums.returncode == 0, sums.stderr
    lines = sums.stdout.splitlines()
    assert len(lines) == len((folder / "SHA256SUMS").read_text().splitlines())
    assert all(line.endswith(words[0]) for line in lines)

    summary = run(next(b for b in blocks if "--pretty-print" in b))
    assert summary.returncode == 0, summary.stdout + summary.stderr
    for expected in expected_lines.splitlines():
        assert expected in summary.stdout.splitlines()

    certificates = run(next(b for b in blocks if b.startswith("for f in certificates")))
    lines = certificates.stdout.splitlines()
    assert len(lines) == 5 and all(words[1] in line for line in lines), certificates.stdout

    detach = run(next(b for b in blocks if b.startswith("pdfdetach")))
    assert detach.returncode == 0 and (folder / "files.json").exists()

    chain = run(next(b for b in blocks if b.startswith("python3 verify_chain.py")))
    assert chain.returncode == 0, chain.stdout + chain.stderr
    assert chain.stdout.splitlines()[0].startswith(words[2])


def test_the_shipped_verifier_names_the_first_altered_sequence(org, five_people, tmp_path):
    _, folder, manifest = extract(org, tmp_path)
    assert "verify_chain.py" in {f["name"] for f in manifest["files"]}
    assert "verify_chain.py" in (folder / "SHA256SUMS").read_text()
    result = run_verifier(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 6 events")
    assert f"#6 {manifest['ledger']['head_hash']} (in this pack, matching)" in result.stdout

    records_path = folder / "records.json"
    original = records_path.read_text()
    records = json.loads(original)
    records[3]["hashed_fields"]["channel"] = "in_person"
    records[4]["hashed_fields"]["channel"] = "in_person"
    records_path.write_text(json.dumps(records))
    result = run_verifier(folder)
    assert result.returncode == 1
    assert result.stdout.startswith("BROKEN at sequence 4: its content no longer matches")

    records = json.loads(original)
    records[1]["action"] = "refused"  # the readable field only: the hash still matches
    records_path.write_text(json.dumps(records))
    result = run_verifier(folder)
    assert result.returncode == 1 and "BROKEN at sequence 2: action differs" in result.stdout


def test_the_verifier_checks_links_only_between_consecutive_sequences(org, five_people, tmp_path):
    _, folder, _ = extract(org, tmp_path)
    records_path = folder / "records.json"
    records = json.loads(records_path.read_text())
    # Without sequence 3 the link from 2 to 4 cannot be checked, and is not claimed.
    records_path.write_text(json.dumps(records[:2] + records[3:]))
    result = run_verifier(folder)
    assert result.returncode == 0, result.stdout
    assert "3 links between consecutive sequence numbers checked; 1 gaps" in result.stdout

    # A forged event with its own hash recomputed still breaks the link to the one before.
    sys.path.insert(0, str(folder))
    try:
        import verify_chain
    finally:
        sys.path.remove(str(folder))
    forged = records[2]
    forged["prev_hash"] = "f" * 64
    forged["hash"] = verify_chain.event_hash(forged["prev_hash"], forged["hashed_fields"])
    forged["record_id"] = forged["hash"]
    records_path.write_text(json.dumps(records))
    result = run_verifier(folder)
    assert result.returncode == 1
    assert "BROKEN at sequence 3: it does not link to the hash of the event before it" in (
        result.stdout
    )


def test_the_verifier_reports_an_unreadable_file_without_a_traceback(tmp_path):
    from evidence.packs import VERIFIER

    shutil.copy(VERIFIER, tmp_path / "verify_chain.py")
    (tmp_path / "records.json").write_text("[" * 100_000)
    result = run_verifier(tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("BROKEN in the file")
    assert "Traceback" not in result.stderr


def test_id_ranges_keep_a_hundred_ids_on_one_line():
    assert _id_ranges([1, 2, 3, 7, 9, 10]) == "1-3, 7, 9-10"
    assert _id_ranges([]) == ""
