"""Proof uploads: the evidence is the file as sent, less its location, and no pixel bomb."""

import hashlib
import io
import struct
import xml.etree.ElementTree as ElementTree
import zipfile
import zlib

import pikepdf
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image, ImageFile
from PIL.PngImagePlugin import PngInfo

from accounts.models import AuditEntry
from consents import services
from consents.models import ConsentEvent, ProofFile
from consents.uploads import has_location, inspect_upload
from evidence.certificates import _thumbnail, certificate_pdf
from evidence.packs import PackScope, build_pack
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

pytestmark = pytest.mark.django_db

pillow_heif = pytest.importorskip("pillow_heif")
pillow_heif.register_heif_opener()

CAPTURED = "2026:11:02 18:30:00"
GPS = {1: "N", 2: (40.0, 25.0, 1.5), 3: "W", 4: (3.0, 42.0, 0.5), 6: 650.0}
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""'
    b' xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
    b' exif:GPSLatitude="40,25.025N" xmp:CreateDate="2026-11-02T18:30:00"'
    b' exif:GPSLongitude="3,42.008W" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
    b' photoshop:City="Madrid"><exif:GPSAltitude>650/1</exif:GPSAltitude>'
    b"<exif:GPSMapDatum/></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Apple"  # Make
    exif[0x0132] = CAPTURED  # DateTime
    exif[ExifTags.IFD.GPSInfo] = GPS
    return exif.tobytes()


def photo(image_format: str, *, size=(64, 48), xmp: bytes | None = XMP) -> bytes:
    out = io.BytesIO()
    extra = {"xmp": xmp} if xmp and image_format != "PNG" else {}
    if xmp and image_format == "PNG":
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode(), zip=True)
        extra["pnginfo"] = info
    image = Image.new("RGB", size, "green")
    image.save(out, format=image_format, exif=exif_with_gps(), **extra)
    return out.getvalue()


def grant_with_proof(org, subject, proof) -> list[ConsentEvent]:
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    return grant(subject, purpose, notice, proof=proof)


def upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def read_back(content: bytes) -> tuple[dict, dict, bytes]:
    """(IFD0, GPS IFD, XMP) as Pillow reads them from a stored file."""
    with Image.open(io.BytesIO(content)) as image:
        exif = image.getexif()
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
        xmp = xmp.encode() if isinstance(xmp, str) else xmp  # PNG's iTXt reads as text
        return dict(exif), dict(exif.get_ifd(ExifTags.IFD.GPSInfo)), xmp


def pixels(content: bytes) -> bytes:
    with Image.open(io.BytesIO(content)) as image:
        return image.convert("RGB").tobytes()


def png_claiming(width: int, height: int) -> bytes:
    """A genuine 1-bit PNG of width x height, all black: a few KB for 144 megapixels."""
    row = b"\x00" + bytes((width + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind, body):
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.fixture
def decoded(monkeypatch):
    """Every attempt to decode an image's pixels, which fails (the code under test may catch it)."""
    attempts = []

    def refuse(self):
        attempts.append(self.size)
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    return attempts


# --- GPS ------------------------------------------------------------------------------------


def test_gps_leaves_a_jpeg_without_touching_its_pixels_or_the_rest_of_its_exif():
    sent = photo("JPEG")
    assert read_back(sent)[1]  # the test photo does carry a location

    kept = inspect_upload(upload("form.jpg", sent, "image/jpeg"))

    ifd0, gps, xmp = read_back(kept.content)
    assert gps == {} and ExifTags.IFD.GPSInfo not in ifd0
    assert ifd0[0x010F] == "Apple" and ifd0[0x0132] == CAPTURED  # capture time kept as evidence
    assert b"GPS" not in xmp and b"Madrid" not in xmp
    assert b'xmp:CreateDate="2026-11-02T18:30:00"' in xmp
    ElementTree.fromstring(xmp)  # noqa: S314 (our own test data) still well-formed XMP
    # Lossless: same length, and every changed byte lies in the metadata before the image data.
    assert len(kept.content) == len(sent)
    changed = [i for i, (a, b) in enumerate(zip(sent, kept.content, strict=True)) if a != b]
    assert changed and max(changed) < sent.index(b"\xff\xda")  # SOS: the entropy-coded scan
    assert pixels(kept.content) == pixels(sent)
    assert kept.sha256 == hashlib.sha256(kept.content).hexdigest()
    assert kept.sha256 != hashlib.sha256(sent).hexdigest()


def test_the_stored_file_and_the_ledger_hold_the_digest_of_the_stored_bytes(org, staff):
    kept = inspect_upload(upload("form.jpg", photo("JPEG"), "image/jpeg"))
    subject = DataSubjectFactory(organisation=org)
    proof = services.proof_create(organisation=org, subject=subject, files=[kept], created_by=staff)
    (event,) = grant_with_proof(org, subject, proof)
    record = ProofFile.objects.get()
    with record.file.open("rb") as handle:
        stored = handle.read()
    assert read_back(stored)[1] == {}
    assert record.sha256 == hashlib.sha256(stored).hexdigest() == kept.sha256
    assert [d["sha256"] for d in event.proof_digests if d["kind"] == "file"] == [record.sha256]


def test_gps_leaves_a_png_in_its_exif_chunk_and_its_compressed_xmp():
    sent = photo("PNG")
    assert read_back(sent)[1] and b"GPSLatitude" in read_back(sent)[2]

    kept = inspect_upload(upload("captura.png", sent, "image/png"))

    ifd0, gps, xmp = read_back(kept.content)
    assert gps == {} and ifd0[0x0132] == CAPTURED
    assert b"GPS" not in xmp and b"Madrid" not in xmp and b"CreateDate" in xmp
    assert pixels(kept.content) == pixels(sent)
    with Image.open(io.BytesIO(kept.content)) as image:
        image.verify()  # every rewritten chunk has a right CRC


def test_gps_leaves_the_raw_exif_profile_that_imagemagick_writes_in_png():
    raw = exif_with_gps()
    hexed = raw.hex()
    text = (
        b"\nexif\n%8d\n" % len(raw)
        + "\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72)).encode()
        + b"\n"
    )
    info = PngInfo()
    info.add_text("Raw profile type exif", text.decode(), zip=True)
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG", pnginfo=info)
    sent = out.getvalue()
    assert has_location(sent, "image/png")

    kept = inspect_upload(upload("captura.png", sent, "image/png"))

    assert not has_location(kept.content, "image/png")
    with Image.open(io.BytesIO(kept.content)) as image:
        assert image.getexif()[0x0132] == CAPTURED  # Pillow reads the rewritten profile


def test_a_photo_whose_gps_cannot_be_removed_is_refused():
    sent = bytearray(photo("JPEG", xmp=None))
    # Point the GPS directory past the end of the EXIF block: no safe edit, so no store.
    tiff = sent.index(b"Exif\x00\x00") + 6
    entry = sent.index(struct.pack(">HH", ExifTags.IFD.GPSInfo, 4), tiff)
    struct.pack_into(">I", sent, entry + 8, 0xFFFF00)
    with pytest.raises(ValidationError, match="location data .* could not be removed"):
        inspect_upload(upload("form.jpg", bytes(sent), "image/jpeg"))


def with_segments(jpeg: bytes, *segments: tuple[bytes, bytes]) -> bytes:
    """The JPEG with (marker, body) segments put right after its start-of-image marker."""
    made = b"".join(marker + struct.pack(">H", len(body) + 2) + body for marker, body in segments)
    return jpeg[:2] + made + jpeg[2:]


def iptc(*datasets: tuple[int, int, bytes]) -> tuple[bytes, bytes]:
    """An APP13 segment: Photoshop's image resources holding one IPTC IIM resource."""
    iim = b"".join(b"\x1c" + bytes([r, d]) + struct.pack(">H", len(v)) + v for r, d, v in datasets)
    resource = (
        b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iim)) + iim + b"\x00" * (len(iim) % 2)
    )
    return b"\xff\xed", b"Photoshop 3.0\x00" + resource


def xmp_extension(chunk: bytes, offset: int, full_length: int) -> tuple[bytes, bytes]:
    head = b"http://ns.adobe.com/xmp/extension/\x00" + b"0" * 32
    return b"\xff\xe1", head + struct.pack(">II", full_length, offset) + chunk


EXTENDED = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description'
    b' xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLongitude="3,42.5W"'
    b' xmlns:GDepth="http://ns.google.com/photos/1.0/depthmap/" GDepth:Data="AAAA"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def test_place_names_leave_the_iptc_of_a_jpeg_and_its_caption_stays():
    from PIL import IptcImagePlugin

    places = ((2, 90, b"Madrid"), (2, 95, b"Comunidad de Madrid"), (2, 101, b"Espa\xc3\xb1a"))
    sent = with_segments(photo("JPEG"), iptc(*places, (2, 120, b"Consent form, signed")))
    assert has_location(sent, "image/jpeg")

    kept = inspect_upload(upload("form.jpg", sent, "image/jpeg"))

    assert len(kept.content) == len(sent) and pixels(kept.content) == pixels(sent)
    assert b"Madrid" not in kept.content and b"Espa\xc3\xb1a" not in kept.content
    with Image.open(io.BytesIO(kept.content)) as image:
        read = IptcImagePlugin.getiptcinfo(image)
    assert read[(2, 120)] == b"Consent form, signed"
    assert read[(2, 90)] == b" " * len(b"Madrid") and read[(2, 101)] == b" " * len(places[2][2])
    assert not has_location(kept.content, "image/jpeg")


def test_gps_leaves_the_extended_xmp_of_a_jpeg():
    sent = with_segments(photo("JPEG"), xmp_extension(EXTENDED, 0, len(EXTENDED)))
    assert has_location(sent, "image/jpeg")

    kept = inspect_upload(upload("form.jpg", sent, "image/jpeg"))

    assert len(kept.content) == len(sent) and b"GPSLongitude" not in kept.content
    assert b'GDepth:Data="AAAA"' in kept.content
    assert not has_location(kept.content, "image/jpeg")


def test_a_location_cut_between_two_extended_xmp_chunks_is_refused():
    cut = EXTENDED.index(b"GPSLongitude") + 3
    sent = with_segments(
        photo("JPEG"),
        xmp_extension(EXTENDED[:cut], 0, len(EXTENDED)),
        xmp_extension(EXTENDED[cut:], cut, len(EXTENDED)),
    )
    with pytest.raises(ValidationError, match="location data .* could not be removed"):
        inspect_upload(upload("form.jpg", sent, "image/jpeg"))


def test_a_photo_without_location_is_stored_byte_for_byte():
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "white").save(out, format="JPEG")
    sent = out.getvalue()
    assert inspect_upload(upload("a.jpg", sent, "image/jpeg")).content == sent


# --- HEIC -----------------------------------------------------------------------------------


def test_an_iphone_heic_photo_is_the_evidence_and_a_jpeg_rendition_shows_it():
    sent = photo("HEIF")
    assert has_location(sent, "image/heic")

    kept = inspect_upload(upload("IMG_0001.HEIC", sent, "image/heic"))

    assert kept.name == "IMG_0001.HEIC" and kept.content_type == "image/heic"
    assert kept.content[4:12] == b"ftypheic" and not has_location(kept.content, "image/heic")
    ifd0, gps, xmp = read_back(kept.content)
    assert gps == {} and ifd0[0x0132] == CAPTURED and b"GPS" not in xmp and b"Madrid" not in xmp
    # The HEVC data is untouched: only the metadata items changed, in place.
    assert len(kept.content) == len(sent) and pixels(kept.content) == pixels(sent)
    assert kept.sha256 == hashlib.sha256(kept.content).hexdigest()
    assert kept.rendition.startswith(b"\xff\xd8\xff")
    assert kept.rendition_sha256 == hashlib.sha256(kept.rendition).hexdigest()
    with Image.open(io.BytesIO(kept.rendition)) as rendition:
        assert rendition.size == (64, 48) and not rendition.getexif()  # no metadata at all


@pytest.fixture
def purposes(org):
    marketing = PurposeFactory(organisation=org, code="marketing", name="Promociones")
    published_notice(purposes=[marketing])
    return [marketing]


def capture(client, org, purposes, files):
    return client.post(
        reverse("consents:capture", kwargs={"org_slug": org.slug}),
        {
            "phone": "600 12 34 56",
            "full_name": "Lucía Pérez Gómez",
            "kind": "customer",
            "language": "es",
            "purposes": [p.pk for p in purposes],
            "decision": "granted",
            "channel": "whatsapp",
            "captured_at": "2026-11-02T18:30",
            "idempotency_key": "0f" * 16,
            "files": files,
        },
    )


def test_a_captured_heic_downloads_as_sent_and_its_rendition_as_jpeg(
    client_for, org, staff, purposes
):
    client = client_for(staff)
    capture(client, org, purposes, upload("IMG_0001.HEIC", photo("HEIF"), "image/heic"))
    record = ProofFile.objects.get()
    assert record.content_type == "image/heic" and record.file.name.endswith(".heic")
    assert record.rendition.name.startswith(f"proofs/{org.pk}/")
    assert "IMG_0001" not in record.rendition.name  # random, like the original's
    event = ConsentEvent.objects.get()
    assert [d for d in event.proof_digests if d["kind"] == "file"] == [
        {"kind": "file", "sha256": record.sha256, "type": "image/heic"}
    ]

    original = client.get(reverse("consents:proof_file", args=[org.slug, record.pk]))
    body = b"".join(original.streaming_content)
    assert hashlib.sha256(body).hexdigest() == record.sha256
    assert original["Content-Type"] == "image/heic"
    assert original["Content-Disposition"].startswith("attachment;")
    assert 'filename="IMG_0001.HEIC"' in original["Content-Disposition"]

    jpeg = client.get(reverse("consents:proof_rendition", args=[org.slug, record.pk]))
    body = b"".join(jpeg.streaming_content)
    assert hashlib.sha256(body).hexdigest() == record.rendition_sha256
    assert jpeg["Content-Type"] == "image/jpeg" and jpeg["X-Content-Type-Options"] == "nosniff"
    assert jpeg["Content-Disposition"] == 'attachment; filename="IMG_0001.jpg"'
    assert AuditEntry.objects.filter(action="downloaded", register="prooffile").count() == 2

    page = client.get(reverse("consents:subject", args=[org.slug, event.subject_id]))
    assert reverse("consents:proof_rendition", args=[org.slug, record.pk]) in page.content.decode()


def test_a_file_without_rendition_has_no_jpeg_to_download(client_for, org, staff, purposes):
    client = client_for(staff)
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "white").save(out, format="PNG")
    capture(client, org, purposes, upload("a.png", out.getvalue(), "image/png"))
    record = ProofFile.objects.get()
    assert not record.rendition
    response = client.get(reverse("consents:proof_rendition", args=[org.slug, record.pk]))
    assert response.status_code == 404


def test_a_failed_capture_leaves_neither_the_heic_nor_its_rendition(
    client_for, org, staff, purposes, settings, monkeypatch
):
    def fail(**kwargs):
        raise RuntimeError("the ledger append failed")

    monkeypatch.setattr(services, "consent_record", fail)
    with pytest.raises(RuntimeError):
        capture(client_for(staff), org, purposes, upload("I.HEIC", photo("HEIF"), "image/heic"))
    media = settings.MEDIA_ROOT / "proofs"
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


def test_the_certificate_shows_a_heic_photo_through_its_rendition(org, staff):
    subject = DataSubjectFactory(organisation=org)
    kept = inspect_upload(upload("IMG_0001.HEIC", photo("HEIF", size=(640, 480)), "image/heic"))
    proof = services.proof_create(organisation=org, subject=subject, files=[kept])
    grant_with_proof(org, subject, proof)
    pdf = certificate_pdf(subject=subject, sign=False)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        images = [image for page in document.pages for image in page.get_images().values()]
    assert {int(image.Width) for image in images} == {480}  # the rendition's thumbnail


def test_an_evidence_pack_holds_the_heic_as_evidence_and_its_rendition_beside_it(
    org, staff, tmp_path
):
    subject = DataSubjectFactory(organisation=org)
    kept = inspect_upload(upload("IMG_0001.HEIC", photo("HEIF"), "image/heic"))
    proof = services.proof_create(organisation=org, subject=subject, files=[kept])
    grant_with_proof(org, subject, proof)
    path = tmp_path / "pack.zip"
    build_pack(organisation=org, scope=PackScope(), path=path)
    with zipfile.ZipFile(path) as pack:
        original = pack.read(f"proofs/{kept.sha256}.heic")
        rendition = pack.read(f"proofs/{kept.sha256}.heic.jpg")
        sums = pack.read("SHA256SUMS").decode()
    assert hashlib.sha256(original).hexdigest() == kept.sha256
    assert rendition == kept.rendition
    assert f"{kept.rendition_sha256}  proofs/{kept.sha256}.heic.jpg" in sums


# --- pixel bombs ----------------------------------------------------------------------------


def test_a_144_megapixel_png_is_refused_from_its_header(decoded):
    bomb = png_claiming(12001, 12001)
    assert len(bomb) < 100_000  # small enough for any byte cap
    message = "12001 × 12001 pixels; photos may have at most 50 megapixels"
    with pytest.raises(ValidationError, match=message):
        inspect_upload(upload("bomb.png", bomb, "image/png"))
    assert decoded == []


def test_the_pixel_cap_is_a_setting_and_holds_for_heic_photos(settings):
    settings.PROOF_MAX_PIXELS = 64 * 48 - 1
    for name, image_format, kind in [
        ("a.jpg", "JPEG", "image/jpeg"),
        ("a.png", "PNG", "image/png"),
        ("a.HEIC", "HEIF", "image/heic"),
    ]:
        with pytest.raises(ValidationError, match="64 × 48 pixels"):
            inspect_upload(upload(name, photo(image_format), kind))
    settings.PROOF_MAX_PIXELS = 64 * 48
    assert inspect_upload(upload("a.png", photo("PNG"), "image/png")).size


def test_a_refused_pixel_bomb_stores_nothing(client_for, org, staff, purposes):
    bomb = upload("bomb.png", png_claiming(12001, 12001), "image/png")
    response = capture(client_for(staff), org, purposes, bomb)
    assert "photos may have at most" in response.content.decode()
    assert not ProofFile.objects.exists() and not ConsentEvent.objects.exists()


def test_the_thumbnailer_never_decodes_a_pixel_bomb_stored_before_the_cap(decoded):
    assert _thumbnail(png_claiming(12001, 12001), "image/png") is None
    assert decoded == []


# --- the capture page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, sentence",
    [
        ("en", "Location data (GPS) is removed from photos before they are stored."),
        ("es", "Los datos de ubicación (GPS) se eliminan de las fotos antes de guardarlas."),
        ("ar", "تُحذف بيانات الموقع (GPS) من الصور قبل حفظها."),
    ],
)
def test_the_capture_page_says_that_location_is_removed_from_photos(
    client_for, org, staff, language, sentence
):
    client = client_for(staff)
    client.cookies["django_language"] = language
    response = client.get(reverse("consents:capture", kwargs={"org_slug": org.slug}))
    assert sentence in response.content.decode()
