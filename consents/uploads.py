"""Proof files are checked by what they contain, not by what they claim (invariant 7)."""

import hashlib
import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

ACCEPTED = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "application/pdf": (".pdf",),
}
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}


def sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp" and head[8:12] in HEIC_BRANDS:
        return "image/heic"
    return None


class InspectedUpload:
    def __init__(self, *, name: str, content: bytes, content_type: str):
        self.name = name
        self.content = content
        self.content_type = content_type
        self.size = len(content)
        self.sha256 = hashlib.sha256(content).hexdigest()


def inspect_upload(uploaded) -> InspectedUpload:
    """Read, check and return an upload, or raise ValidationError. Nothing is stored here."""
    name = (uploaded.name or "file")[-200:]
    limit = settings.PROOF_MAX_BYTES
    if uploaded.size > limit:
        raise ValidationError(
            _("“%(name)s” is %(size)s; proof files may be at most %(limit)s.")
            % {"name": name, "size": filesizeformat(uploaded.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    content = b"".join(uploaded.chunks())
    detected = sniff(content[:16])
    if detected == "image/heic":
        return _heic_to_jpeg(name, content)
    if detected is None:
        raise ValidationError(
            _("“%(name)s” is not a JPEG, PNG or PDF file. Other files (SVG, HTML, …) are refused.")
            % {"name": name},
            code="type",
        )
    lower = name.lower()
    claimed_ok = any(lower.endswith(ext) for ext in ACCEPTED[detected])
    declared = (getattr(uploaded, "content_type", "") or "").split(";")[0].strip().lower()
    if not claimed_ok or (declared and declared not in (detected, "application/octet-stream")):
        raise ValidationError(
            _("The content of “%(name)s” does not match its name or type; it was refused.")
            % {"name": name},
            code="mismatch",
        )
    if detected.startswith("image/"):
        _check_image(name, content)
    return InspectedUpload(name=name, content=content, content_type=detected)


def _check_image(name: str, content: bytes) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except Exception as error:
        raise ValidationError(
            _("“%(name)s” is not a readable image.") % {"name": name}, code="corrupt"
        ) from error


def _heic_to_jpeg(name: str, content: bytes) -> InspectedUpload:
    """iPhone photos: keep a JPEG everyone can open (the original's hash is kept by the caller)."""
    try:
        import pillow_heif
        from PIL import Image

        pillow_heif.register_heif_opener()
        with Image.open(io.BytesIO(content)) as image:
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=90)
    except Exception as error:
        raise ValidationError(
            _("“%(name)s” looks like a HEIC photo but could not be converted; send it as JPEG.")
            % {"name": name},
            code="heic",
        ) from error
    stem = name.rsplit(".", 1)[0]
    return InspectedUpload(name=f"{stem}.jpg", content=out.getvalue(), content_type="image/jpeg")
