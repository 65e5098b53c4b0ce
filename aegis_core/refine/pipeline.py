"""The refine step: samples in, validated JSONL out, with the numbers Dagster shows.

Streams: clean -> mask PII -> dedup (repeated exchanges, then repeated rows) -> score ->
format + validate -> write, one sample at a time. Document sources get a first pass that
learns repeated header/footer lines. Each dropped sample is counted under its reason.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aegis_core.refine import clean, pii, quality
from aegis_core.refine.dedup import BATCH as DEDUP_BATCH
from aegis_core.refine.dedup import Deduplicator, dedup_exchanges
from aegis_core.refine.formats import InvalidRow, conversation_turns, document_turns, to_row
from aegis_core.refine.records import Sample, Turn

DEFAULT_QUALITY_THRESHOLD = 0.5
PREVIEW_ROWS = 3
# What dedup dropped, by grain: repeated exchanges inside a conversation, and whole rows
# (conversations or document chunks) repeating an earlier row of the dataset.
DEDUP_GRAINS = ("exchange_exact", "exchange_near", "conversation_exact", "conversation_near")
T = TypeVar("T")


@dataclass
class RefineStats:
    rows: int = 0
    sha256: str = ""
    bytes: int = 0
    mean_quality: float = 0.0
    pii_masked: dict[str, int] = field(default_factory=dict)
    dedup: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    quality_histogram: list[int] = field(default_factory=list)
    boilerplate_lines_removed: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "preview"}


# Turns are cleaned and masked as one text (one pass, not one per turn), joined by an
# ASCII marker, then split back. When that cannot give the turns back one for one (a turn
# holds the marker, or a rule matched across turns, e.g. a private-key block opened in one
# turn and closed in another), the sample is done turn by turn instead: never guessed.
TURN_MARKER = "~~aegis~turn~~"  # no "-": it would wake the SSN detector on every digit


def _per_turn(
    turns: list[Turn], apply: Callable[[str], tuple[str, T]]
) -> tuple[list[Turn], list[T]]:
    """`apply` over each turn's text, as one call on the joined turns when that splits back."""
    if turns and not any(TURN_MARKER in text for _, text in turns):
        joined, extra = apply(f"\n{TURN_MARKER}\n".join(text for _, text in turns))
        parts = joined.split(TURN_MARKER)
        if len(parts) == len(turns):
            return [(r, p.strip()) for (r, _), p in zip(turns, parts, strict=True)], [extra]
    done = [apply(text) for _, text in turns]
    return [(r, text) for (r, _), (text, _) in zip(turns, done, strict=True)], [e for _, e in done]


def _has_text(sample: Sample) -> bool:
    if sample.kind == "document":
        return bool(sample.text.strip())
    return any(text.strip() for _, text in sample.turns)


def _clean_sample(sample: Sample, repeated: frozenset[str]) -> tuple[Sample, int]:
    removed = 0
    if sample.kind == "document":
        sample.text, removed = clean.clean(sample.text, repeated)
        if sample.title:
            sample.title = clean.normalize(sample.title)
    else:
        sample.turns, counts = _per_turn(sample.turns, lambda text: clean.clean(text, repeated))
        removed = sum(counts)
    return sample, removed


def _mask_sample(sample: Sample, counts: Counter[str]) -> Sample:
    if sample.kind == "document":
        sample.text, found = pii.mask(sample.text)
        counts.update(found)
        if sample.title:
            sample.title, found = pii.mask(sample.title)
            counts.update(found)
    else:
        sample.turns, founds = _per_turn(sample.turns, pii.mask)
        for found in founds:
            counts.update(found)
    return sample


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def learn_repeated_lines(document_texts: Iterable[str]) -> frozenset[str]:
    learner = clean.RepeatedLines()
    for text in document_texts:
        learner.observe(text)
    return learner.repeated()


def refine(
    samples: Iterable[Sample],
    *,
    description: str,
    fmt: str,
    out_path: Path,
    quality_threshold: float = DEFAULT_QUALITY_THRESHOLD,
    repeated: frozenset[str] = frozenset(),
    on_progress: Callable[[int], None] | None = None,
) -> RefineStats:
    stats = RefineStats()
    dropped: Counter[str] = Counter()
    pii_counts: Counter[str] = Counter()
    scores: list[float] = []
    dedup = Deduplicator()
    grains = dict.fromkeys(DEDUP_GRAINS, 0)
    digest = hashlib.sha256()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(out_path.suffix + ".partial")

    def prepared() -> Iterator[tuple[int, Sample, list[Turn], str]]:
        """Cleaned, masked samples as rows to judge, each with its dedup text."""
        for n, sample in enumerate(samples, start=1):
            if not _has_text(sample):  # an empty conversation or a record without text
                dropped["empty"] += 1
                continue
            sample, removed = _clean_sample(sample, repeated)
            stats.boilerplate_lines_removed += removed
            sample = _mask_sample(sample, pii_counts)
            turns = (
                document_turns(sample) if sample.kind == "document" else conversation_turns(sample)
            )
            if len(turns) < 2 or not all(t.strip() for _, t in turns):
                dropped["no_dialogue"] += 1
                continue
            if sample.kind == "conversation":
                turns, exact, near = dedup_exchanges(turns)
                grains["exchange_exact"] += exact
                grains["exchange_near"] += near
            yield n, sample, turns, "\n".join(t for _, t in turns)

    with tmp.open("wb") as out:
        for batch in _batches(prepared(), DEDUP_BATCH):  # dedup judges a batch at once
            verdicts = dedup.check_many([text for *_, text in batch])
            for (n, sample, turns, text), verdict in zip(batch, verdicts, strict=True):
                if verdict is not None:
                    grains[f"conversation_{verdict}"] += 1
                    continue
                value, worst = quality.score(text if sample.kind == "conversation" else sample.text)
                if value < quality_threshold:
                    dropped[f"quality:{worst}"] += 1
                    continue
                try:
                    row = to_row(turns, description, fmt)
                except InvalidRow as exc:
                    dropped[f"invalid:{exc}"[:60]] += 1
                    continue
                line = (json.dumps(row, ensure_ascii=False) + "\n").encode()
                out.write(line)
                digest.update(line)
                stats.bytes += len(line)
                stats.rows += 1
                scores.append(value)
                if len(stats.preview) < PREVIEW_ROWS:
                    stats.preview.append(row)
                if on_progress and n % 10_000 == 0:
                    on_progress(n)
    if stats.rows:
        tmp.replace(out_path)
    else:  # no sample survived: no empty dataset on disk
        tmp.unlink()
    stats.sha256 = digest.hexdigest()
    stats.mean_quality = round(sum(scores) / len(scores), 4) if scores else 0.0
    stats.pii_masked = dict(pii_counts)
    stats.dedup = {"kept": dedup.counts["kept"], **grains}
    stats.dropped = dict(dropped)
    stats.quality_histogram = quality.histogram(scores)
    return stats
