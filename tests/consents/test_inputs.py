"""Bad input gets a clear message and changes nothing (invariant 7)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from phonenumber_field.phonenumber import PhoneNumber, to_python
from PIL import Image

from consents.phones import e164, parse_phone
from consents.uploads import inspect_upload


@pytest.mark.parametrize(
    "raw", ["600 12 34 56", "+34600123456", "0034 600-123-456", "600.12.34.56"]
)
def test_spanish_numbers_in_any_format_are_the_same_number(raw):
    assert parse_phone(raw, "ES").as_e164 == "+34600123456"


@pytest.mark.parametrize(
    "raw, message",
    [
        ("600ABC123", "not a phone number"),
        ("600 12 34 56 ext. 7", "not a phone number"),
        ("+34 600 12 34 56 x7", "not a phone number"),
        ("12", "not a phone number"),
        ("+34 100 000 000", "not a valid phone number"),
        ("", "Enter a phone number"),
    ],
)
def test_what_is_not_a_phone_number_is_refused_not_trimmed(raw, message):
    with pytest.raises(ValidationError, match=message):
        parse_phone(raw, "ES")


def png_bytes():
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes():
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(out, format="JPEG")
    return out.getvalue()


def test_a_real_png_jpeg_and_pdf_are_accepted_with_their_digest():
    for name, content, kind in [
        ("a.png", png_bytes(), "image/png"),
        ("b.JPG", jpeg_bytes(), "image/jpeg"),
        ("c.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n", "application/pdf"),
    ]:
        upload = inspect_upload(SimpleUploadedFile(name, content, content_type=kind))
        assert upload.content_type == kind and upload.size == len(content)
        assert len(upload.sha256) == 64


@pytest.mark.parametrize(
    "name, content, kind, message",
    [
        (
            "x.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
            "image/svg+xml",
            "not a JPEG, PNG or PDF",
        ),
        (
            "x.html",
            b"<html><script>alert(1)</script></html>",
            "text/html",
            "not a JPEG, PNG or PDF",
        ),
        ("x.png", b"<html></html>", "image/png", "not a JPEG, PNG or PDF"),
        ("x.pdf", png_bytes(), "application/pdf", "does not match"),
        ("x.png", png_bytes(), "text/html", "does not match"),
        ("x.jpg", b"\xff\xd8\xff" + b"garbage" * 10, "image/jpeg", "not a readable image"),
    ],
)
def test_files_whose_content_is_not_what_they_claim_are_refused(name, content, kind, message):
    with pytest.raises(ValidationError, match=message):
        inspect_upload(SimpleUploadedFile(name, content, content_type=kind))


def test_an_oversize_file_is_refused_before_reading_it(settings):
    settings.PROOF_MAX_BYTES = 1000
    upload = SimpleUploadedFile("big.png", png_bytes() + b"\0" * 2000, content_type="image/png")
    with pytest.raises(ValidationError, match="at most"):
        inspect_upload(upload)


def test_an_iphone_heic_photo_is_kept_as_sent_with_a_jpeg_to_show_it():
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, format="HEIF")
    upload = inspect_upload(SimpleUploadedFile("IMG_0001.HEIC", out.getvalue(), "image/heic"))
    # The evidence is the photo as sent (it has no location to remove); the JPEG is a rendition.
    assert upload.content_type == "image/heic" and upload.name == "IMG_0001.HEIC"
    assert upload.content == out.getvalue()
    assert upload.rendition.startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        to_python("+34600123456"),
        to_python("+34 600 12 34 56"),
        PhoneNumber(raw_input="x1"),
    ],
)
def test_a_stored_number_in_e164_is_what_the_identifiers_always_hashed(stored):
    # e164() spares the append a format and a validation; the HMAC of the identifiers must not
    # change, so it answers what `stored.as_e164 if stored else ""` did.
    assert e164(stored) == (stored.as_e164 if stored else "")
