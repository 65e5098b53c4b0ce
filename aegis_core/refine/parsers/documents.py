"""PDF, HTML, Markdown and plain text -> titled chunks, through `unstructured`.

HTML, Markdown and text use unstructured's partitioners. For PDFs we read the text layer
with pdfminer.six page by page and hand each page to unstructured's text partitioner
(page numbers kept), instead of `unstructured[pdf]`: that extra pulls torch, ONNX and
OpenCV (gigabytes) for layout models and OCR we do not run. A page without a text layer
(a scan) yields nothing here and is counted (`pages_without_text`): OCR is a paid step the
loop proposes (aegis_core/loop/ocr.py), whose text goes through `page_samples` below.
Chunks come from `chunk_by_title`, so each carries the title of its section.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from aegis_core.errors import SourceRefused
from aegis_core.refine.offline import prepare
from aegis_core.refine.records import Sample

MAX_CHARACTERS = 1500
NEW_AFTER = 1200
COMBINE_UNDER = 60


def _page_elements(number: int, text: str) -> list[Any]:
    from unstructured.partition.text import partition_text

    elements = partition_text(text=text, languages=["eng"])
    for element in elements:
        element.metadata.page_number = number
    return elements


def _pdf_elements(path: Path, stats: dict[str, int]) -> list[Any]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    elements: list[Any] = []
    stats.setdefault("pages_without_text", 0)
    try:
        for number, page in enumerate(extract_pages(str(path)), start=1):
            text = "\n\n".join(
                box.get_text().strip()
                for box in page
                if isinstance(box, LTTextContainer) and box.get_text().strip()
            )
            if not text:
                stats["pages_without_text"] += 1
                continue
            elements.extend(_page_elements(number, text))
    except (PDFSyntaxError, PSException, ValueError, TypeError, KeyError, AssertionError) as exc:
        raise SourceRefused(f"corrupt or unreadable PDF: {exc or type(exc).__name__}") from None
    except Exception as exc:  # pdfminer raises a zoo of its own exception types
        if type(exc).__module__.startswith("pdfminer"):
            raise SourceRefused(f"corrupt or unreadable PDF: {exc}") from None
        raise
    if not elements and not stats["pages_without_text"]:
        raise SourceRefused("PDF has no pages with text and none to OCR")
    return elements


def partition(path: Path, fmt: str, stats: dict[str, int] | None = None) -> list[Any]:
    prepare()
    if fmt == "pdf":
        return _pdf_elements(path, stats if stats is not None else {})
    try:
        if fmt == "html":
            from unstructured.partition.html import partition_html

            return partition_html(filename=str(path), languages=["eng"])
        if fmt == "markdown":
            from unstructured.partition.md import partition_md

            return partition_md(filename=str(path), languages=["eng"])
        from unstructured.partition.text import partition_text

        return partition_text(filename=str(path), languages=["eng"])
    except UnicodeDecodeError as exc:
        raise SourceRefused(f"{fmt} source is not valid text: {exc}") from None


def parse_document(path: Path, fmt: str, stats: dict[str, int] | None = None) -> Iterator[Sample]:
    stats = stats if stats is not None else {}
    elements = partition(path, fmt, stats)
    stats["elements"] = len(elements)
    return _chunk_samples(elements, fmt)


def page_samples(pages: Iterable[tuple[int, str]], source: str) -> Iterator[Sample]:
    """Samples from page texts got another way (OCR), chunked exactly as a parsed PDF is:
    ids `<source>:<n>`, meta `{"source": source}`."""
    prepare()
    elements = [e for number, text in pages if text.strip() for e in _page_elements(number, text)]
    return _chunk_samples(elements, source)


def _chunk_samples(elements: list[Any], source: str) -> Iterator[Sample]:
    from unstructured.chunking.title import chunk_by_title

    if not elements:
        return
    chunks = chunk_by_title(
        elements,
        max_characters=MAX_CHARACTERS,
        new_after_n_chars=NEW_AFTER,
        combine_text_under_n_chars=COMBINE_UNDER,
        multipage_sections=True,
    )
    for index, chunk in enumerate(chunks):
        originals = getattr(chunk.metadata, "orig_elements", None) or []
        title = next((e.text for e in originals if e.category == "Title"), None)
        text = chunk.text
        if title and text.startswith(title):
            text = text[len(title) :].strip()
        yield Sample(
            id=f"{source}:{index}",
            kind="document",
            text=text,
            title=title,
            page=chunk.metadata.page_number,
            meta={"source": source},
        )
