"""Parsed samples as Parquet (pyarrow, zstd), written and read in batches."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from aegis_core.refine.records import Sample

BATCH = 20_000
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("kind", pa.string()),
        ("turns_json", pa.string()),
        ("text", pa.string()),
        ("title", pa.string()),
        ("page", pa.int32()),
        ("meta_json", pa.string()),
    ]
)


def write_samples(samples: Iterable[Sample], path: Path) -> int:
    """Written beside `path` as `.partial` and moved into place once complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".partial")
    written = 0
    buffer: list[Sample] = []
    with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:

        def flush() -> None:
            columns = {
                "id": [s.id for s in buffer],
                "kind": [s.kind for s in buffer],
                "turns_json": [json.dumps(s.turns) if s.turns else None for s in buffer],
                "text": [s.text or None for s in buffer],
                "title": [s.title for s in buffer],
                "page": [s.page for s in buffer],
                "meta_json": [json.dumps(s.meta) for s in buffer],
            }
            writer.write_table(pa.table(columns, schema=SCHEMA))
            buffer.clear()

        for sample in samples:
            buffer.append(sample)
            written += 1
            if len(buffer) >= BATCH:
                flush()
        if buffer or written == 0:
            flush()
    tmp.replace(path)
    return written


def read_samples(path: Path) -> Iterator[Sample]:
    parquet = pq.ParquetFile(path)
    loads = json.loads
    for batch in parquet.iter_batches(batch_size=BATCH):
        columns = [batch.column(name).to_pylist() for name in SCHEMA.names]  # no dict a row
        for id_, kind, turns, text, title, page, meta in zip(*columns, strict=True):
            yield Sample(
                id=id_,
                kind=kind,
                turns=[tuple(t) for t in loads(turns)] if turns else [],
                text=text or "",
                title=title,
                page=page,
                meta=loads(meta) if meta and meta != "{}" else {},
            )


def read_document_texts(path: Path) -> Iterator[str]:
    """Only the text column of document samples: the cheap input of the header pass."""
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=BATCH, columns=["kind", "text"]):
        for kind, text in zip(
            batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True
        ):
            if kind == "document" and text:
                yield text
