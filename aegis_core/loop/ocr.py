"""Approved OCR, done here: tesseract reads the PDF pages that have no text layer.

The executor of an approved `ocr` spend ticket (`tickets.execute` calls `action(files)`):
each page without a text layer (the same test as the features, `scanned_pages`), at most
the ticket's units, is rendered with pypdfium2 at DPI and read by tesseract
(pytesseract); the page texts are chunked exactly as a parsed PDF's are and written to
`ocr.parquet` beside the job's `chunks.parquet`, which the refine step reads too. The
output has a fixed path and is moved into place whole, so a repeated execution (a retry
after a crash) simply writes it again.

Where tesseract or the `ocr` extra is missing, `unavailable()` says so and the gate gives
no action for `ocr`: the ticket then records that its execution was a test stub.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from aegis_core.db.session import Database
from aegis_core.loop.features import scanned_pages
from aegis_core.loop.tickets import Action, T, TicketInfo, current_tickets
from aegis_core.refine import chunks_io
from aegis_core.refine.parsers.documents import page_samples
from aegis_core.refine.service import JobFiles

KIND = "ocr"
DPI = 200
LANGUAGE = "eng"
OUTPUT = "ocr.parquet"


def unavailable() -> str | None:
    """Why OCR cannot run on this machine, or None when it can."""
    if shutil.which("tesseract") is None:
        return "tesseract is not installed (Debian/Ubuntu: apt-get install tesseract-ocr)"
    try:
        import pypdfium2  # noqa: F401
        import pytesseract  # noqa: F401
    except ImportError as exc:
        return f"the ocr extra is not installed ({exc.name}): pip install 'aegis-refine[ocr]'"
    return None


def output(files: JobFiles) -> Path:
    return files.root / OUTPUT


def read_pages(pdf: Path, pages: Sequence[int], dpi: int = DPI) -> Iterator[tuple[int, str]]:
    """(page number, text) for each of `pages` (numbered from 1), read by tesseract."""
    import pypdfium2
    import pytesseract

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        for number in pages:
            page = document[number - 1]
            try:
                image = page.render(scale=dpi / 72).to_pil()
            finally:
                page.close()
            yield number, pytesseract.image_to_string(image, lang=LANGUAGE)
    finally:
        document.close()


def run(files: JobFiles, units: int | None = None) -> dict[str, Any]:
    """OCR the job's scanned pages (at most `units`) into `ocr.parquet`; what was done."""
    import pytesseract

    _, scanned = scanned_pages(files.source)
    pages = scanned[:units] if units is not None else scanned
    texts = list(read_pages(files.source, pages))
    chunks = chunks_io.write_samples(page_samples(texts, KIND), output(files))
    characters = sum(len(text.strip()) for _, text in texts)
    engine = f"tesseract {pytesseract.get_tesseract_version()}"
    return {
        "mode": "local",
        "note": f"{engine} read {len(pages)} page(s): {characters} characters, {chunks} chunk(s)",
        "engine": engine,
        "pages": pages,
        "characters": characters,
        "chunks": chunks,
        "output": OUTPUT,
    }


def action(files: JobFiles) -> Action:
    """The gate's executor for an approved OCR ticket of this job."""

    def execute(info: TicketInfo) -> dict[str, Any]:
        return run(files, info.units)

    return execute


def executed_output(db: Database, job_id: str, files: JobFiles) -> list[Path]:
    """The OCR output the dataset takes in: present only when the job's newest OCR ticket
    was executed here (not a test stub)."""
    with db.session() as session:
        ticket = next((t for t in current_tickets(session, job_id) if t.kind == KIND), None)
        done = (
            ticket is not None
            and ticket.status == T.EXECUTED
            and (ticket.execution or {}).get("mode") == "local"
        )
    path = output(files)
    return [path] if done and path.is_file() else []
