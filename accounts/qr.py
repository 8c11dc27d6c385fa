"""QR codes for links people open on their phone (consent links, posters, group invites)."""

import segno


def qr_data_uri(url: str, *, scale: int = 5, svg: bool = False) -> str:
    """The URL as a QR code in a data: URI: the CSP allows no inline script or style, and an
    <img> with a data: URI needs neither. svg_data_uri keeps the SVG namespace (an inline SVG
    string without it fails to load as an image)."""
    code = segno.make(url, error="m")
    if svg:
        return code.svg_data_uri(scale=scale, border=2)
    return code.png_data_uri(scale=scale, border=2)
