"""PDFs with scanned pages: pages that are only an image of text, no text layer.

A page is typeset by WeasyPrint, rendered to pixels by pypdfium2 and stored back as an
image-only PDF page (Pillow), which is exactly what a scanner produces; tesseract can read
it back. Text pages stay typeset (they have a text layer)."""

from __future__ import annotations

import io
from pathlib import Path

TEXT_PAGE = (
    "The installer copies the program files to your computer and creates a shortcut on "
    "the desktop. It checks that there is enough disk space before it starts, and it asks "
    "for permission when the program folder is protected by the system."
)
SCANNED_TITLE = "Warranty claims"
SCANNED_PAGE = (
    "To claim the warranty, send the receipt and the serial number to the service desk. "
    "The desk answers within five working days and sends a prepaid label for the device."
)
DPI = 200


def _typeset(title: str, body: str) -> bytes:
    from weasyprint import HTML

    html = (
        "<html><body style='font-family: sans-serif; font-size: 15pt'>"
        f"<h1>{title}</h1><p>{body}</p></body></html>"
    )
    return HTML(string=html).write_pdf()


def _scanned(pdf: bytes) -> bytes:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    images = [page.render(scale=DPI / 72).to_pil().convert("L") for page in document]
    document.close()
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=DPI)
    return out.getvalue()


def pdf_with_scans(path: Path, *, text_pages: int = 1, scanned_pages: int = 1) -> Path:
    """`text_pages` typeset pages ("Chapter n"), then `scanned_pages` image-only pages
    ("Warranty claims")."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    parts = [_typeset(f"Chapter {n}", TEXT_PAGE) for n in range(1, text_pages + 1)]
    parts += [_scanned(_typeset(SCANNED_TITLE, SCANNED_PAGE)) for _ in range(scanned_pages)]
    for part in parts:
        for page in PdfReader(io.BytesIO(part)).pages:
            writer.add_page(page)
    with path.open("wb") as handle:
        writer.write(handle)
    return path
