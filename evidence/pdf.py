"""HTML to PDF/A-3b with WeasyPrint, with machine-readable records embedded as attachments.

Nothing in an evidence PDF may reach the network: names, quotes and notice texts are typed by
people, and an <img src="https://..."> among them would make the renderer fetch it. The URL
fetcher below allows only data: URLs and files under our static directories (plus files the
caller names explicitly). Images of proofs are passed as data: URLs.

Rendering costs 0.2-0.7 s a page and more for long tables: call it from Celery, not a request.
"""

import base64
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders

STYLESHEET = "pdf/evidence.css"
# Named explicitly: output must not change when other fonts are installed on a machine.
FONT_FAMILY = {"ar": "'Noto Sans Arabic', 'DejaVu Sans', sans-serif"}
DEFAULT_FONT_FAMILY = "'DejaVu Sans', sans-serif"


def _static_roots() -> list[Path]:
    roots = [Path(p) for p in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


def _url_fetcher(allowed_files: Iterable[Path] = ()):
    from weasyprint.urls import URLFetcher

    allowed = {Path(p).resolve() for p in allowed_files}
    roots = _static_roots()

    class EvidenceURLFetcher(URLFetcher):
        """data: URLs, our static files and the files named by the caller; nothing else."""

        def fetch(self, url, headers=None):
            scheme = urlsplit(url).scheme.lower()
            if scheme == "file":
                path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
                if path not in allowed and not any(path.is_relative_to(r) for r in roots):
                    raise ValueError(f"File outside the allowed directories: {path}")
            elif scheme != "data":
                raise ValueError(f"Evidence PDFs fetch nothing over {scheme or 'relative'} URLs")
            return super().fetch(url, headers)

    return EvidenceURLFetcher(allowed_protocols={"data", "file"}, allow_redirects=False)


def _deduplicate_associated_files(document, pdf) -> None:
    # WeasyPrint 70 lists each attachment twice in the catalogue's /AF array (from the
    # EmbeddedFiles name tree and again from the file specifications).
    if "AF" not in pdf.catalog:
        return
    seen, unique = set(), []
    for reference in pdf.catalog["AF"]:
        key = bytes(reference) if isinstance(reference, bytes | bytearray) else str(reference)
        if key not in seen:
            seen.add(key)
            unique.append(reference)
    pdf.catalog["AF"][:] = unique


def font_family(language: str) -> str:
    return FONT_FAMILY.get((language or "").split("-")[0], DEFAULT_FONT_FAMILY)


def data_url(content: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(content).decode('ascii')}"


def render_pdf(
    *,
    html: str,
    base_url: str | None,
    attachments: list[tuple[str, bytes, str]],
    title: str,
    language: str,
    allowed_files: Iterable[Path] = (),
) -> bytes:
    """Render ``html`` as PDF/A-3b; each (name, content, content type) attachment is embedded
    with the relationship "Data" (PDF/A-3: source data of what the pages show).

    ``base_url`` resolves relative links (None: relative links resolve to nothing). The
    stylesheet static/pdf/evidence.css is always applied, with the font for ``language``.
    """
    from weasyprint import CSS, HTML, Attachment

    fetcher = _url_fetcher(allowed_files)
    stylesheets = []
    path = finders.find(STYLESHEET)
    if path:
        stylesheets.append(CSS(filename=path, url_fetcher=fetcher))
    # Margin boxes (page numbers, running header) do not inherit body fonts: set it on html.
    stylesheets.append(CSS(string=f"html {{ font-family: {font_family(language)}; }}"))
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=stylesheets
    )
    document.metadata.title = title
    document.metadata.lang = language
    # An Attachment can be written once only: build fresh ones for every render.
    pdf_attachments = [
        Attachment(
            url=data_url(content, content_type),
            url_fetcher=fetcher,
            name=name,
            relationship="Data",
        )
        for name, content, content_type in attachments
    ]
    return document.write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=pdf_attachments,
        finisher=_deduplicate_associated_files,
    )
