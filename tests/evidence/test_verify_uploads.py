"""The verify page answers every malformed upload with a clear message, never a 500.

Each ZIP here is crafted the way outside testers crafted theirs (eight of them once gave 500s):
not JSON, the wrong shape, nesting deep enough to exhaust recursion, an integer Python refuses to
convert, a bad CRC, an encrypted member, bytes that are not UTF-8, a member inflating past its
cap. They go through the real client, as a user would send them.
"""

import html
import io
import struct
import warnings
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

pytestmark = pytest.mark.django_db

SHA = "0" * 64


def crafted(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def with_bad_crc() -> bytes:
    """A stored member whose bytes were changed after its CRC was written."""
    data = bytearray(crafted({"manifest.json": b'{"files": []}'}, zipfile.ZIP_STORED))
    position = data.index(b'{"files"')
    data[position + 2] ^= 0x01
    return bytes(data)


def with_encrypted_member() -> bytes:
    """The "encrypted" flag set on manifest.json, in its local and central headers."""
    data = bytearray(crafted({"manifest.json": b'{"files": []}'}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        (flags,) = struct.unpack_from("<H", data, at)
        struct.pack_into("<H", data, at, flags | 0x1)
    return bytes(data)


def with_broken_deflate() -> bytes:
    data = bytearray(crafted({"manifest.json": b'{"files": []}' * 50}))
    start = data.index(b"manifest.json") + len("manifest.json")
    data[start : start + 8] = b"\xff" * 8
    return bytes(data)


def twice() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it writes
        archive.writestr("manifest.json", b'{"files": []}')
        archive.writestr("manifest.json", b'{"files": []}')
    return out.getvalue()


DEEP = b"[" * 200_000 + b"]" * 200_000
HUGE_INTEGER = b'{"files": [], "n": ' + b"9" * 5000 + b"}"

CASES = {
    "manifest is not JSON": (
        crafted({"manifest.json": b"{not json"}),
        "manifest.json is not valid JSON",
    ),
    "manifest is a list": (crafted({"manifest.json": b"[1, 2]"}), "not an evidence pack manifest"),
    "manifest files of the wrong type": (
        crafted({"manifest.json": b'{"files": "all of them"}'}),
        "does not have the shape of an evidence pack",
    ),
    "manifest entry without a hash": (
        crafted({"manifest.json": b'{"files": [{"name": "a.txt", "sha256": 7}]}', "a.txt": b""}),
        "does not have the shape of an evidence pack",
    ),
    "deeply nested manifest": (
        crafted({"manifest.json": DEEP}),
        "manifest.json is nested too deeply",
    ),
    "huge integer in the manifest": (
        crafted({"manifest.json": HUGE_INTEGER}),
        "manifest.json is not valid JSON",
    ),
    "bad CRC": (with_bad_crc(), "cannot be read from the ZIP"),
    "encrypted member": (with_encrypted_member(), "manifest.json is encrypted"),
    "broken deflate stream": (with_broken_deflate(), "cannot be read from the ZIP"),
    "manifest not UTF-8": (
        crafted({"manifest.json": b'{"files": [], "x": "\xff\xfe"}'}),
        "manifest.json is not UTF-8 text",
    ),
    "records not JSON and deeply nested": (
        crafted(
            {
                "manifest.json": b'{"files": [{"name": "records.json", "sha256": "%s"}]}'
                % SHA.encode(),
                "records.json": DEEP,
            }
        ),
        "records.json is nested too deeply",
    ),
    "summary that is not a PDF": (
        crafted(
            {
                "manifest.json": b'{"files": [{"name": "summary.pdf", "sha256": "%s"}]}'
                % SHA.encode(),
                "summary.pdf": b"%PDF-1.7 nothing else",
            }
        ),
        "summary.pdf is signed",
    ),
    "a name twice": (twice(), "Twice or more: manifest.json"),
    "not a ZIP after all": (b"PK\x03\x04 and then nothing", "It could not be opened."),
}


@pytest.fixture
def post(client_for, org, dpo):
    client = client_for(dpo)

    def send(data: bytes, name="pack.zip"):
        return client.post(
            reverse("evidence:verify", kwargs={"org_slug": org.slug}),
            {"file": SimpleUploadedFile(name, data)},
        )

    return send


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_crafted_zip_gets_a_clear_message_and_no_error(post, case):
    data, message = CASES[case]
    response = post(data)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Verification failed." in page
    assert message in page
    assert not response.context["report"].ok


def test_a_manifest_inflating_past_its_cap_is_refused_without_reading_it_all(post, settings):
    settings.VERIFY_MAX_MANIFEST_BYTES = 1024 * 1024
    bomb = crafted({"manifest.json": b" " * (20 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024  # 20 MiB of spaces deflate to about 20 KB
    page = html.unescape(post(bomb).content.decode())
    assert "manifest.json inflates to more than 1.0\xa0MB" in page


def test_records_inflating_past_the_member_cap_are_refused(post, settings):
    settings.VERIFY_MAX_MEMBER_BYTES = 1024 * 1024
    manifest = b'{"files": [{"name": "records.json", "sha256": "%s"}]}' % SHA.encode()
    bomb = crafted({"manifest.json": manifest, "records.json": b" " * (20 * 1024 * 1024)})
    page = html.unescape(post(bomb).content.decode())
    assert "records.json inflates to more than 1.0\xa0MB" in page


def test_a_member_longer_than_the_manifest_says_is_changed_and_reading_stops(post, settings):
    # Reading all 10 MB would exceed the 2 MB budget and be reported as that instead.
    settings.VERIFY_MAX_INFLATED_BYTES = 2 * 1024 * 1024
    manifest = b'{"files": [{"name": "proofs/a.png", "sha256": "%s", "size": 10}]}' % SHA.encode()
    zero_filled = crafted({"manifest.json": manifest, "proofs/a.png": b"\0" * 10_000_000})
    page = html.unescape(post(zero_filled).content.decode())
    assert "proofs/a.png was changed" in page and "in all" not in page


def test_all_members_together_stay_within_the_inflated_budget(post, settings):
    settings.VERIFY_MAX_INFLATED_BYTES = 3 * 1024 * 1024
    names = [f"proofs/{n}.png" for n in range(5)]
    files = ", ".join(f'{{"name": "{n}", "sha256": "{SHA}"}}' for n in names)
    members = {"manifest.json": b'{"files": [%s]}' % files.encode()}
    members.update(dict.fromkeys(names, b"\x00" * (1024 * 1024)))
    page = html.unescape(post(crafted(members)).content.decode())
    assert "The files of this ZIP inflate to more than 3.0\xa0MB in all." in page


def test_an_upload_above_the_size_cap_is_refused_before_it_is_read(
    post, settings, client_for, org, dpo
):
    settings.VERIFY_MAX_UPLOAD_BYTES = 1000
    form = client_for(dpo).get(reverse("evidence:verify", kwargs={"org_slug": org.slug}))
    assert "Files up to 1000\xa0bytes." in html.unescape(form.content.decode())
    response = post(b"%PDF-1.7" + b"\0" * 2000, name="big.pdf")
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "The file is small enough to verify here" in page
    assert "It is 2.0\xa0KB; the limit is 1000\xa0bytes. Nothing was checked." in page


def test_a_records_file_with_a_huge_sequence_number_is_not_sent_to_the_database(org):
    from evidence.verification import VerificationReport, _event_records, _ledger_checks

    records = _event_records([{"sequence": 10**30, "hash": SHA}, {"sequence": True, "hash": SHA}])
    assert records == []
    report = VerificationReport(kind="zip")
    _ledger_checks(report, org, records, "records.json")
    assert not report.ok and report.checks[0].detail == "None found."


def test_a_records_file_of_any_length_is_matched_in_batches(org):
    from evidence.verification import VerificationReport, _ledger_checks

    report = VerificationReport(kind="zip")
    # More sequence numbers than one query may carry (SQLite here: 250,000; PostgreSQL: 65,535).
    records = [{"sequence": n, "hash": SHA} for n in range(1, 250_002)]
    _ledger_checks(report, org, records, "records.json")
    assert not report.ok and report.checks[0].detail.startswith("Not matching: #1, #2")
