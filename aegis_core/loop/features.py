"""What the loop knows about a job's data before it decides anything: `Features`.

Measured from the parsed samples (chunks.parquet) and the fetched source (source.json, and
the PDF itself for its pages), with the refinery's own rules so that a feature means what
the refinery will do:
- format_mix: share of samples by kind ("conversation", "document");
- pages / pages_without_text: PDF pages, and those without a text layer (scans: OCR);
- noise_ratio: share of samples the quality rules (aegis_core.refine.quality) would drop
  at the default threshold;
- pii_density: PII items found by aegis_core.refine.pii per 1,000 words;
- duplicate_rate: share of samples the refinery's Deduplicator flags (exact or near);
- language_mix: share of languages (langdetect, seeded) over up to LANGUAGE_SAMPLES texts.
Large jobs are measured on at most MAX_MEASURED samples, taken as BLOCKS runs of
consecutive samples spread evenly over the file (runs, not a stride, so that duplicates
close to each other are still seen); `measured` says how many.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from aegis_core.errors import SourceRefused
from aegis_core.refine import chunks_io, pii, quality
from aegis_core.refine.dedup import Deduplicator
from aegis_core.refine.pipeline import DEFAULT_QUALITY_THRESHOLD
from aegis_core.refine.records import Sample
from aegis_core.refine.service import JobFiles

MAX_MEASURED = 10_000
BLOCKS = 10
LANGUAGE_SAMPLES = 200
LANGUAGE_CHARS = 500
LANGUAGE_MIN_CHARS = 20


@dataclass(frozen=True)
class Features:
    source_format: str
    bytes: int
    samples: int
    measured: int = 0
    words: int = 0
    format_mix: dict[str, float] = field(default_factory=dict)
    pages: int = 0
    pages_without_text: int = 0
    noise_ratio: float = 0.0
    pii_density: float = 0.0
    duplicate_rate: float = 0.0
    language_mix: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _blocks(total: int) -> list[range]:
    if total <= MAX_MEASURED:
        return [range(total)]
    size = MAX_MEASURED // BLOCKS
    step = (total - size) / (BLOCKS - 1)
    return [range(round(i * step), round(i * step) + size) for i in range(BLOCKS)]


def _measured_samples(path: Path) -> tuple[int, Iterator[Sample]]:
    if not path.exists():
        return 0, iter(())
    total = pq.ParquetFile(path).metadata.num_rows
    wanted = _blocks(total)

    def rows() -> Iterator[Sample]:
        blocks = iter(wanted)
        block = next(blocks, None)
        for index, sample in enumerate(chunks_io.read_samples(path)):
            while block is not None and index >= block.stop:
                block = next(blocks, None)
            if block is None:
                return
            if index >= block.start:
                yield sample

    return total, rows()


def pdf_pages(path: Path) -> tuple[int, int]:
    """(pages, pages without a text layer); see `scanned_pages`."""
    pages, scanned = scanned_pages(path)
    return pages, len(scanned)


def scanned_pages(path: Path) -> tuple[int, list[int]]:
    """(pages, numbers of the pages without a text layer, from 1), with the same test as the
    PDF parser: a page whose text is only whitespace has none. No layout analysis:
    characters are enough."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LTChar, LTContainer
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    def has_text(item: Any) -> bool:
        if isinstance(item, LTChar):
            return bool(item.get_text().strip())
        return isinstance(item, LTContainer) and any(has_text(child) for child in item)

    manager = PDFResourceManager()
    device = PDFPageAggregator(manager, laparams=None)
    interpreter = PDFPageInterpreter(manager, device)
    pages, without = 0, []
    try:
        with path.open("rb") as handle:
            for page in PDFPage.get_pages(handle):
                interpreter.process_page(page)
                pages += 1
                if not has_text(device.get_result()):
                    without.append(pages)
    except Exception as exc:  # pdfminer raises a zoo of its own exception types
        raise SourceRefused(f"corrupt or unreadable PDF: {exc or type(exc).__name__}") from None
    return pages, without


def _languages(texts: list[str]) -> dict[str, float]:
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # langdetect is random unless seeded
    found: Counter[str] = Counter()
    for text in texts:
        try:
            found[detect(text[:LANGUAGE_CHARS])] += 1
        except LangDetectException:  # no letters to judge
            continue
    return _shares(found)


def _shares(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: round(v / total, 4) for k, v in counts.most_common()} if total else {}


def measure(files: JobFiles) -> Features:
    """The features of one job's fetched and parsed data."""
    info = json.loads(files.source_info.read_text())
    fmt = info.get("detected_format", "unknown")
    pages, without = pdf_pages(files.source) if fmt == "pdf" else (0, 0)
    total, samples = _measured_samples(files.chunks)
    kinds: Counter[str] = Counter()
    dedup = Deduplicator()
    measured = words = noisy = pii_items = 0
    language_texts: list[str] = []
    for sample in samples:
        text = sample.all_text()
        measured += 1
        kinds[sample.kind] += 1
        words += len(text.split())
        noisy += quality.score(text)[0] < DEFAULT_QUALITY_THRESHOLD
        pii_items += sum(pii.mask(text)[1].values())
        dedup.is_duplicate(sample.id, text)
        if len(language_texts) < LANGUAGE_SAMPLES and len(text) >= LANGUAGE_MIN_CHARS:
            language_texts.append(text)
    duplicates = dedup.counts["exact_duplicates"] + dedup.counts["near_duplicates"]
    return Features(
        source_format=fmt,
        bytes=int(info.get("bytes", 0)),
        samples=total,
        measured=measured,
        words=words,
        format_mix=_shares(kinds),
        pages=pages,
        pages_without_text=without,
        noise_ratio=round(noisy / measured, 4) if measured else 0.0,
        pii_density=round(1000 * pii_items / words, 3) if words else 0.0,
        duplicate_rate=round(duplicates / measured, 4) if measured else 0.0,
        language_mix=_languages(language_texts),
    )
