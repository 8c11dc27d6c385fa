"""Proof files are checked by what they contain, not by what they claim (invariant 7).

The evidence is the file the person sent, less its location: GPS coordinates are removed from
photos before the file is hashed and stored (GDPR Art. 5(1)(c), data minimisation: where a
customer stood when they took a photo of a signed form proves nothing about their consent).
The removal edits the metadata in place and never re-encodes the pixels; the rest of the EXIF
(camera, capture time) is kept, since the capture time can matter as evidence.

An iPhone HEIC photo is kept as sent (the evidence, with its own SHA-256) plus a JPEG rendition
made from it, because browsers and PDF viewers cannot show HEIC.
"""

import hashlib
import io
import re
import struct
import zlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

ACCEPTED = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "application/pdf": (".pdf",),
}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}
GPS_IFD_TAG = 0x8825


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


def _digest(content: bytes | None) -> str:
    return hashlib.sha256(content).hexdigest() if content is not None else ""


class InspectedUpload:
    """A checked upload: ``content`` is the evidence, ``rendition`` a JPEG to show (HEIC only)."""

    def __init__(
        self, *, name: str, content: bytes, content_type: str, rendition: bytes | None = None
    ):
        self.name = name
        self.content = content
        self.content_type = content_type
        self.size = len(content)
        self.sha256 = _digest(content)
        self.rendition = rendition
        self.rendition_sha256 = _digest(rendition)


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
        return _inspect_heic(name, content)
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
        content = _without_location(name, content, detected)
    return InspectedUpload(name=name, content=content, content_type=detected)


def _check_pixels(name: str, image) -> None:
    # The size comes from the header: a decompression bomb (a 144-megapixel PNG is a few KB) is
    # refused before anything decodes it, here or later in a thumbnail.
    width, height = image.size
    limit = settings.PROOF_MAX_PIXELS
    if width * height > limit:
        raise ValidationError(
            _(
                "“%(name)s” is %(width)s × %(height)s pixels; photos may have at most "
                "%(limit)s megapixels."
            )
            % {"name": name, "width": width, "height": height, "limit": f"{limit / 1e6:g}"},
            code="too_many_pixels",
        )


def _check_image(name: str, content: bytes) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            _check_pixels(name, image)
            image.verify()
    except ValidationError:
        raise
    except Exception as error:
        raise ValidationError(
            _("“%(name)s” is not a readable image.") % {"name": name}, code="corrupt"
        ) from error


def _inspect_heic(name: str, content: bytes) -> InspectedUpload:
    """iPhone photos: the HEIC (less its location) is the evidence; a JPEG rendition shows it."""
    try:
        import pillow_heif
        from PIL import Image

        pillow_heif.register_heif_opener()
        with Image.open(io.BytesIO(content)) as image:
            _check_pixels(name, image)
        content = _without_location(name, content, "image/heic")
        with Image.open(io.BytesIO(content)) as image:
            out = io.BytesIO()
            # No exif= here: the rendition carries no metadata at all, so no location either.
            image.convert("RGB").save(out, format="JPEG", quality=90)
    except ValidationError:
        raise
    except Exception as error:
        raise ValidationError(
            _("“%(name)s” looks like a HEIC photo but could not be converted; send it as JPEG.")
            % {"name": name},
            code="heic",
        ) from error
    return InspectedUpload(
        name=name, content=content, content_type="image/heic", rendition=out.getvalue()
    )


# --- location removal -----------------------------------------------------------------------


def _without_location(name: str, content: bytes, content_type: str) -> bytes:
    """The same file with its location removed (GPS from EXIF and XMP, place names from XMP and
    IPTC), or ValidationError if it stays."""
    try:
        if content_type == "image/jpeg":
            stripped = strip_jpeg_location(content)
        elif content_type == "image/png":
            stripped = strip_png_location(content)
        else:
            stripped = strip_heic_location(content)
        still_there = has_location(stripped, content_type)
    except Exception:
        still_there = True
    if still_there:
        # Refuse rather than keep a location we were asked to drop; a screenshot or a PDF of
        # the same photo carries none.
        raise ValidationError(
            _(
                "The location data in “%(name)s” could not be removed, so it was not stored. "
                "Send a screenshot of it instead."
            )
            % {"name": name},
            code="location",
        )
    return stripped


_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


def _tiff_order(tiff: bytes | bytearray, start: int) -> str | None:
    return {b"II*\x00": "<", b"MM\x00*": ">"}.get(bytes(tiff[start : start + 4]))


def _gps_entry(tiff: bytes | bytearray, start: int, end: int) -> tuple[int, int, int] | None:
    """(offset of IFD0, number of entries, index of the GPS pointer) or None if there is none."""
    order = _tiff_order(tiff, start)
    if order is None:
        return None  # not TIFF: neither Pillow nor a viewer reads any GPS from it
    (ifd0,) = struct.unpack_from(order + "I", tiff, start + 4)
    ifd0 += start
    (count,) = struct.unpack_from(order + "H", tiff, ifd0)
    if ifd0 + 2 + count * 12 + 4 > end:
        raise ValueError("IFD0 runs past the EXIF block")
    for index in range(count):
        (tag,) = struct.unpack_from(order + "H", tiff, ifd0 + 2 + index * 12)
        if tag == GPS_IFD_TAG:
            return ifd0, count, index
    return None


def remove_gps_ifd(tiff: bytearray, start: int, end: int) -> bool:
    """Remove the GPS IFD from the TIFF (EXIF) block tiff[start:end], in place, same length.

    The GPSInfo entry leaves IFD0 (the entries after it move up one slot) and every byte of the
    GPS directory and of its values is zeroed, so the coordinates are neither read nor left behind.
    Nothing else moves: every other offset, the maker notes and the thumbnail stay valid.
    """
    found = _gps_entry(tiff, start, end)
    if found is None:
        return False
    ifd0, count, index = found
    order = _tiff_order(tiff, start)
    entry = ifd0 + 2 + index * 12
    (gps,) = struct.unpack_from(order + "I", tiff, entry + 8)
    gps += start
    (gps_count,) = struct.unpack_from(order + "H", tiff, gps)
    gps_end = gps + 2 + gps_count * 12 + 4
    if gps_end > end:
        raise ValueError("the GPS IFD runs past the EXIF block")
    for i in range(gps_count):
        _, kind, n, value = struct.unpack_from(order + "HHII", tiff, gps + 2 + i * 12)
        size = _TIFF_TYPE_SIZES.get(kind, 1) * n
        if size > 4:
            if start + value + size > end:
                raise ValueError("a GPS value runs past the EXIF block")
            tiff[start + value : start + value + size] = bytes(size)
    tiff[gps:gps_end] = bytes(gps_end - gps)
    after = ifd0 + 2 + count * 12 + 4  # the entries and the next-IFD offset
    tiff[entry : after - 12] = tiff[entry + 12 : after]
    tiff[after - 12 : after] = bytes(12)
    struct.pack_into(order + "H", tiff, ifd0, count - 1)
    return True


# GPS* in any namespace (exif:, exifEX:, drone makers'), and the IPTC place names that editing
# software fills in from the coordinates (photoshop:City is IPTC Core's city).
_XMP_NAME = (
    rb"(?:[A-Za-z_][\w.-]*:GPS\w*|Iptc4xmpExt:Location\w*|Iptc4xmpCore:Location"
    rb"|photoshop:(?:City|State|Country))"
)
_XMP_LOCATION = [
    re.compile(rb"<(" + _XMP_NAME + rb")\b[^>]*/>"),
    re.compile(rb"<(" + _XMP_NAME + rb")\b[^>]*>.*?</\1\s*>", re.DOTALL),
    re.compile(rb"\s" + _XMP_NAME + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*')"),
]


def blank_xmp_location(xmp: bytes) -> bytes:
    """XMP with its GPS and location properties overwritten by spaces: same length, valid XML.

    Same length, because the packet sits inside a container (JPEG segment, HEIC item) whose
    offsets would otherwise have to be rewritten; XMP packets are padded with spaces anyway.
    """
    for pattern in _XMP_LOCATION:
        xmp = pattern.sub(lambda m: b" " * len(m.group(0)), xmp)
    return xmp


def xmp_has_location(xmp: bytes) -> bool:
    return any(pattern.search(xmp) for pattern in _XMP_LOCATION)


_JPEG_EXIF = re.compile(rb"\xff\xe1(..)Exif\x00\x00", re.DOTALL)
_JPEG_XMP = re.compile(rb"\xff\xe1(..)http://ns\.adobe\.com/xap/1\.0/\x00", re.DOTALL)
# Extended XMP: the rest of a packet too large for one segment, in chunks, each after a GUID
# (32 bytes), the full length and the chunk's offset (4 bytes each).
_JPEG_XMP_EXTENSION = re.compile(
    rb"\xff\xe1(..)http://ns\.adobe\.com/xmp/extension/\x00", re.DOTALL
)
_XMP_EXTENSION_HEADER = 40
# Photoshop's image resources (APP13), where IPTC IIM keeps its place names.
_JPEG_IPTC = re.compile(rb"\xff\xed(..)Photoshop 3\.0\x00", re.DOTALL)


def _jpeg_blocks(content: bytes | bytearray):
    """(kind, start, end) of every EXIF, XMP, extended XMP and IPTC block, in the photo and in
    the images it embeds.

    Scanning the whole file, not only the first segments, also reaches the extra images that
    phones append after the main one (MPF: depth maps, HDR gain maps), each with its own EXIF.
    """
    patterns = (
        ("exif", _JPEG_EXIF, 0),
        ("xmp", _JPEG_XMP, 0),
        ("xmp-extension", _JPEG_XMP_EXTENSION, _XMP_EXTENSION_HEADER),
        ("iptc", _JPEG_IPTC, 0),
    )
    for kind, pattern, header in patterns:
        for match in pattern.finditer(content):
            (length,) = struct.unpack(">H", match.group(1))
            end = min(match.start() + 2 + length, len(content))
            yield kind, min(match.end() + header, end), end


def strip_jpeg_location(content: bytes) -> bytes:
    out = bytearray(content)
    for kind, start, end in _jpeg_blocks(content):
        if kind == "exif":
            remove_gps_ifd(out, start, end)
        elif kind == "iptc":
            for place_start, place_end in iptc_places(out, start, end):
                out[place_start:place_end] = b" " * (place_end - place_start)
        else:
            out[start:end] = blank_xmp_location(bytes(out[start:end]))
    return bytes(out)


def _jpeg_has_location(content: bytes) -> bool:
    extension = []
    for kind, start, end in _jpeg_blocks(content):
        if kind == "exif" and _gps_entry(content, start, end) is not None:
            return True
        if kind in ("xmp", "xmp-extension") and xmp_has_location(content[start:end]):
            return True
        if kind == "iptc" and any(
            content[a:b].strip(b" \x00") for a, b in iptc_places(content, start, end)
        ):
            return True
        if kind == "xmp-extension":
            (offset,) = struct.unpack(">I", content[start - 4 : start])
            extension.append((offset, content[start:end]))
    # A property cut in two by a chunk boundary is found in the chunks put back together.
    return xmp_has_location(b"".join(chunk for _, chunk in sorted(extension)))


# IPTC IIM datasets of record 2 that name a place: content location code and name, city,
# sub-location, province or state, country code and country name.
_IPTC_PLACES = {26, 27, 90, 92, 95, 100, 101}
_PHOTOSHOP_IPTC = 0x0404


def iptc_places(content: bytes | bytearray, start: int, end: int):
    """(start, end) of the value of every place dataset in the IPTC resource of the Photoshop
    image resources at content[start:end]; reading stops at the first thing out of shape."""
    position = start
    while position + 11 <= end and content[position : position + 4] == b"8BIM":
        (resource,) = struct.unpack_from(">H", content, position + 4)
        name = content[position + 6]
        position += 6 + 1 + name + (1 + name) % 2  # a Pascal string, padded to an even length
        if position + 4 > end:
            return
        (size,) = struct.unpack_from(">I", content, position)
        position += 4
        if resource == _PHOTOSHOP_IPTC:
            yield from _iim_places(content, position, min(position + size, end))
        position += size + size % 2


def _iim_places(content: bytes | bytearray, start: int, end: int):
    position = start
    while position + 5 <= end and content[position] == 0x1C:
        record, dataset = content[position + 1], content[position + 2]
        (length,) = struct.unpack_from(">H", content, position + 3)
        position += 5
        if length & 0x8000:  # an extended dataset: its length takes the next bytes
            size = length & 0x7FFF
            if size > 4 or position + size > end:
                return
            length = int.from_bytes(content[position : position + size], "big")
            position += size
        if record == 2 and dataset in _IPTC_PLACES:
            yield position, min(position + length, end)
        position += length


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}
_PNG_XMP = b"XML:com.adobe.xmp"
_PNG_RAW_EXIF = b"raw profile type exif"


def _png_chunks(content: bytes):
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(content):
        (length,) = struct.unpack_from(">I", content, pos)
        kind = content[pos + 4 : pos + 8]
        yield kind, content[pos + 8 : pos + 8 + length], content[pos : pos + 12 + length]
        pos += 12 + length
        if kind == b"IEND":
            return


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_metadata(kind: bytes, data: bytes) -> tuple[str, bytes, bytes] | None:
    """("exif" | "xmp" | "raw-exif", its bytes, what precedes them) for a metadata chunk.

    Only XMP and ImageMagick's raw EXIF profile are decompressed: other text is left alone.
    """
    if kind == b"eXIf":
        return "exif", data, b""
    if kind not in _PNG_TEXT:
        return None
    keyword, _, rest = data.partition(b"\x00")
    if keyword.lower() not in (_PNG_XMP.lower(), _PNG_RAW_EXIF):
        return None
    what = "xmp" if keyword.lower() == _PNG_XMP.lower() else "raw-exif"
    if kind == b"tEXt":
        return what, rest, b""
    if kind == b"zTXt":
        return what, zlib.decompress(rest[1:]), b""
    # iTXt: compression flag, method, language, translated keyword, then the text.
    language, _, tail = rest[2:].partition(b"\x00")
    translated, _, text = tail.partition(b"\x00")
    head = rest[:2] + language + b"\x00" + translated + b"\x00"
    return what, zlib.decompress(text) if rest[0] else text, head


def _png_rebuilt(kind: bytes, data: bytes, head: bytes, text: bytes) -> bytes:
    keyword = data.partition(b"\x00")[0] + b"\x00"
    if kind == b"eXIf":
        return text
    if kind == b"tEXt":
        return keyword + text
    if kind == b"zTXt":
        return keyword + b"\x00" + zlib.compress(text)
    return keyword + head + (zlib.compress(text) if head[0] else text)


def _raw_exif(text: bytes) -> bytearray:
    # ImageMagick's "Raw profile type exif": "\nexif\n   <length>\n<hex lines>". Pillow reads it.
    return bytearray(bytes.fromhex(b"".join(text.split(b"\n")[3:]).decode()))


def _tiff_start(exif: bytes | bytearray) -> int:
    # The APP1 form ("Exif\0\0" then TIFF) turns up in PNG too, although the eXIf chunk is bare.
    return 6 if exif.startswith(b"Exif\x00\x00") else 0


def _png_text_without_gps(what: str, text: bytes) -> bytes:
    if what == "xmp":
        return blank_xmp_location(text)
    raw = _raw_exif(text) if what == "raw-exif" else bytearray(text)
    if not remove_gps_ifd(raw, _tiff_start(raw), len(raw)):
        return text
    if what == "exif":
        return bytes(raw)
    hexed = raw.hex().encode()
    body = b"\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72))
    return b"\n".join(text.split(b"\n")[:3]) + b"\n" + body + b"\n"


def strip_png_location(content: bytes) -> bytes:
    parts = [_PNG_SIGNATURE]
    for kind, data, whole in _png_chunks(content):
        found = _png_metadata(kind, data)
        if found is not None:
            what, text, head = found
            changed = _png_text_without_gps(what, text)
            if changed != text:
                parts.append(_png_chunk(kind, _png_rebuilt(kind, data, head, changed)))
                continue
        # Untouched chunks are copied byte for byte (their CRC included, even a wrong one).
        parts.append(whole)
    return b"".join(parts)


def _png_has_location(content: bytes) -> bool:
    for kind, data, _whole in _png_chunks(content):
        found = _png_metadata(kind, data)
        if found is None:
            continue
        what, text, _head = found
        if what == "xmp":
            if xmp_has_location(text):
                return True
            continue
        raw = _raw_exif(text) if what == "raw-exif" else text
        if _gps_entry(raw, _tiff_start(raw), len(raw)) is not None:
            return True
    return False


def _heic_metadata(content: bytes) -> list[tuple[str, bytes]]:
    import pillow_heif

    heif = pillow_heif.open_heif(content, convert_hdr_to_8bit=False)
    found = []
    for image in heif:
        for kind in ("exif", "xmp"):
            blob = image.info.get(kind)
            if blob:
                found.append((kind, blob[6:] if blob.startswith(b"Exif\x00\x00") else blob))
    return found


def strip_heic_location(content: bytes) -> bytes:
    """Edit the EXIF and XMP items where they lie in the file: the HEVC pixels are not touched."""
    out = bytearray(content)
    for kind, blob in _heic_metadata(content):
        if kind == "exif" and _gps_entry(blob, 0, len(blob)) is None:
            continue
        if kind == "xmp" and not xmp_has_location(blob):
            continue
        start = content.find(blob)
        if start < 0 or content.find(blob, start + 1) >= 0:
            # Split across extents or found twice: no safe place to edit, has_location refuses.
            continue
        if kind == "exif":
            remove_gps_ifd(out, start, start + len(blob))
        else:
            out[start : start + len(blob)] = blank_xmp_location(blob)
    return bytes(out)


def has_location(content: bytes, content_type: str) -> bool:
    """Whether GPS is still in the file: by our own scan, and as Pillow (a viewer) reads it."""
    from PIL import Image

    if content_type == "image/png":
        # Pillow's getexif() on a PNG decodes the whole image to look past the pixels; the chunk
        # scan reads every chunk without decoding any.
        return _png_has_location(content)
    if content_type == "image/heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
        for kind, blob in _heic_metadata(content):
            if kind == "exif" and _gps_entry(blob, 0, len(blob)) is not None:
                return True
            if kind == "xmp" and xmp_has_location(blob):
                return True
    if content_type == "image/jpeg" and _jpeg_has_location(content):
        return True
    with Image.open(io.BytesIO(content)) as image:
        return bool(image.getexif().get_ifd(GPS_IFD_TAG)) or xmp_has_location(
            image.info.get("xmp") or b""
        )
