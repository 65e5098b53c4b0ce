"""The refinery assets, one partition per job:
raw_sources -> parsed_chunks -> scored_jobs -> refined_jsonl -> audit_certificate.

`refined_jsonl` is graph-backed: its graph is the `human_gate` op (aegis_assets/loop.py)
then the `refine` op, so the gate is a real step of the job's run, re-executable at op
boundaries, and the asset checks stay on `refined_jsonl`. `refine` records the checks'
results for the certificate (aegis_assets/certificate.py) and leaves the job `refining`; a
failed blocking check halts the job there. Every step runs inside
`steps.step`: whatever it raises halts the job first. A payment's run for a job that
another run already took (or that left triage) does nothing: `raw_sources` yields no
output and Dagster skips the rest of the run.
"""

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import dagster as dg

from aegis_assets.certificate import audit_certificate
from aegis_assets.loop import human_gate, scored_jobs
from aegis_assets.steps import COMMON, STEPS, step, trigger
from aegis_core.certificates import CheckOutcome
from aegis_core.loop import ocr
from aegis_core.refine import chunks_io, service
from aegis_core.refine.formats import InvalidRow, row_turns, validate
from aegis_core.refine.pii_audit import find_leaks
from resources.database import DatabaseResource
from resources.refinery import RefineryResource

__all__ = ["ASSETS", "STEPS"]


def _markdown_samples(rows: list[Any], limit: int = 3) -> str:
    parts = []
    for row in rows[:limit]:
        body = json.dumps(row, ensure_ascii=False, indent=2)
        parts.append(f"```json\n{body[:1500]}\n```")
    return "\n\n".join(parts) or "_no samples_"


@dg.asset(
    **COMMON,
    output_required=False,
    description="The job's source, fetched over https with SSRF guards.",
)
def raw_sources(
    context: dg.AssetExecutionContext, database: DatabaseResource, refinery: RefineryResource
) -> Iterator[dg.MaterializeResult]:
    """Fetch the source URL to the job folder; sniff its real format."""
    with step(context, "fetch", database, refinery) as (db, files):
        job = service.start(db, context.partition_key, trigger(context.run))
        if job is None:
            context.log.info(
                "Already processed: this payment's run was started before, or the job has "
                "left triage. Nothing to do; only an operator request re-runs a job."
            )
            return
        info = service.fetch_source(db, job, files, **refinery.fetch_limits())
    yield dg.MaterializeResult(
        metadata={
            "bytes": dg.MetadataValue.int(info["bytes"]),
            "sha256": info["sha256"],
            "detected_format": info["detected_format"],
            "content_type": str(info["content_type"]),
            "final_url": dg.MetadataValue.url(info["final_url"]),
            "path": dg.MetadataValue.path(info["path"]),
        }
    )


@dg.asset(
    **COMMON, deps=[raw_sources], description="Samples (conversations or titled chunks) as Parquet."
)
def parsed_chunks(
    context: dg.AssetExecutionContext, database: DatabaseResource, refinery: RefineryResource
) -> dg.MaterializeResult:
    """Parse the source with the parser for its format."""
    with step(context, "parse", database, refinery) as (db, files):
        stats = service.parse(db, service.current(db, context.partition_key), files)
        preview = []
        for sample in chunks_io.read_samples(files.chunks):
            preview.append(
                {
                    "kind": sample.kind,
                    "title": sample.title,
                    "page": sample.page,
                    "turns": sample.turns[:4],
                    "text": sample.text[:400],
                }
            )
            if len(preview) == 3:
                break
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(stats["chunks"]),
            "detected_format": stats["detected_format"],
            "parse_counts": dg.MetadataValue.json(stats),
            "preview": dg.MetadataValue.md(_markdown_samples(preview)),
            "path": dg.MetadataValue.path(str(files.chunks)),
        }
    )


CHECKS = [
    dg.AssetCheckSpec(
        "valid_for_format",
        asset="refined_jsonl",
        blocking=True,
        description="Every line parses and passes the format's turn rules.",
    ),
    dg.AssetCheckSpec(
        "no_pii_left",
        asset="refined_jsonl",
        blocking=True,
        description="An independent second PII pass finds nothing.",
    ),
    dg.AssetCheckSpec("has_rows", asset="refined_jsonl", blocking=True),
    dg.AssetCheckSpec(
        "no_duplicate_rows",
        asset="refined_jsonl",
        description="No two rows are identical after dedup.",
    ),
]


def _audit_output(path: Any) -> dict[str, Any]:
    invalid, leaks, rows, seen, duplicates = 0, Counter(), 0, set(), 0
    with open(path, "rb") as fh:
        for line in fh:
            rows += 1
            digest = hash(line)
            duplicates += digest in seen
            seen.add(digest)
            try:
                turns = row_turns(json.loads(line))
                validate(turns)
            except (ValueError, InvalidRow, AttributeError, TypeError):
                invalid += 1
                continue
            for _, text in turns:
                leaks.update(find_leaks(text))
    return {"rows": rows, "invalid": invalid, "leaks": dict(leaks), "duplicates": duplicates}


CHECK_OUTPUTS = [spec.get_python_identifier() for spec in CHECKS]
_BLOCKING = {spec.name: spec.blocking for spec in CHECKS}


def _check_outcomes(audit: dict[str, Any]) -> list[CheckOutcome]:
    """The checks' results, once: recorded for the certificate and reported to Dagster."""

    def outcome(name: str, passed: bool, severity: str = "ERROR", **metadata: Any) -> CheckOutcome:
        return CheckOutcome(
            name, passed, "refined_jsonl", _BLOCKING[name], severity, metadata=metadata
        )

    rows, duplicates = audit["rows"], audit["duplicates"]
    return [
        outcome("valid_for_format", audit["invalid"] == 0, invalid_rows=audit["invalid"]),
        outcome("no_pii_left", not audit["leaks"], leaks=audit["leaks"]),
        outcome("has_rows", rows > 0, rows=rows),
        outcome(
            "no_duplicate_rows",
            duplicates == 0,
            "WARN",
            duplicate_rate=duplicates / rows if rows else 0.0,
        ),
    ]


@dg.op(
    ins={"gate": dg.In(dg.Nothing)},
    out={"result": dg.Out(dg.Nothing), **{name: dg.Out(dg.Nothing) for name in CHECK_OUTPUTS}},
    description="Clean, mask, dedup, quality-filter and format the samples (and approved OCR).",
)
def refine(
    context: dg.OpExecutionContext, database: DatabaseResource, refinery: RefineryResource
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Refine the parsed samples into the customer's dataset."""
    with step(context, "refine", database, refinery) as (db, files):
        job = service.current(db, context.partition_key)
        extra = ocr.executed_output(db, job.id, files)
        if extra:
            context.log.info(f"the approved OCR's text joins the dataset: {extra[0].name}")
        stats = service.refine(
            db,
            job,
            files,
            quality_threshold=refinery.quality_threshold,
            on_progress=lambda n: context.log.info(f"{n:,} samples refined"),
            extra=extra,
        )
        audit = _audit_output(files.dataset)
        outcomes = _check_outcomes(audit)
        failed = service.record_checks(db, job.id, stats.sha256, outcomes)
    if failed:
        context.log.error(
            f"blocking check failed: {', '.join(c.name for c in failed)}; the job is halted "
            "and gets no certificate"
        )
    histogram = "| quality | rows |\n| --- | --- |\n" + "\n".join(
        f"| {i / 10:.1f}-{(i + 1) / 10:.1f} | {n} |" for i, n in enumerate(stats.quality_histogram)
    )
    yield dg.Output(
        None,
        "result",
        metadata={
            "dagster/row_count": dg.MetadataValue.int(stats.rows),
            "format": job.output_format,
            "sha256": stats.sha256,
            "bytes": dg.MetadataValue.int(stats.bytes),
            "mean_quality": dg.MetadataValue.float(stats.mean_quality),
            "pii_masked": dg.MetadataValue.json(stats.pii_masked),
            "dedup": dg.MetadataValue.json(stats.dedup),
            "dropped": dg.MetadataValue.json(stats.dropped),
            "quality_histogram": dg.MetadataValue.md(histogram),
            "preview": dg.MetadataValue.md(_markdown_samples(stats.preview)),
            "output_path": dg.MetadataValue.path(str(files.dataset)),
            "ocr_text_in": "ocr.parquet" if extra else "none",
        },
    )
    for outcome in outcomes:
        yield dg.AssetCheckResult(
            check_name=outcome.name,
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity(outcome.severity),
            metadata=dict(outcome.metadata),
        )


@dg.graph_asset(
    **COMMON,
    ins={"scored_jobs": dg.AssetIn(dagster_type=dg.Nothing)},
    check_specs=CHECKS,
    description=(
        "The human gate on the job's spend, then clean, PII-masked, deduplicated, "
        "quality-filtered ShareGPT/ChatML JSONL."
    ),
)
def refined_jsonl(scored_jobs: Any) -> dict[str, Any]:
    outputs = refine(gate=human_gate(scored=scored_jobs))
    return {"result": outputs.result, **{name: getattr(outputs, name) for name in CHECK_OUTPUTS}}


ASSETS = [raw_sources, parsed_chunks, scored_jobs, refined_jsonl, audit_certificate]
