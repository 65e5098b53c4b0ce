"""Dataset quality on a labelled set: this project and datatrove, side by side, one run.

    python3.11 -m venv .venv-bench
    .venv-bench/bin/pip install -e . -r bench/requirements-quality.txt
    .venv-bench/bin/python bench/quality.py            # prints the markdown table

The set is `bench/quality_set.py` (generated, deterministic). Each part runs through this
project (`pii.mask`, `dedup.Deduplicator`, `quality.score`, `parse_discord` + `refine`) and,
where datatrove has the stage, through datatrove with its defaults: `PIIFormatter`
(emails and public IPv4 addresses), the MinHash stages (signature, buckets, cluster,
filter: 5-gram shingles, 14 bands of 8), and `GopherQualityFilter` +
`GopherRepetitionFilter` + `C4QualityFilter` (a document goes when any rejects it).
datatrove has no chat-export reader, so the chat rows are this project's alone.
`project_side()` is what the CI test runs (no datatrove needed).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aegis_core.refine import pii, quality  # noqa: E402
from aegis_core.refine.dedup import Deduplicator  # noqa: E402
from aegis_core.refine.formats import row_turns, validate  # noqa: E402
from aegis_core.refine.parsers.discord import parse_discord  # noqa: E402
from aegis_core.refine.pipeline import DEFAULT_QUALITY_THRESHOLD, refine  # noqa: E402
from aegis_core.refine.records import Sample  # noqa: E402
from bench.quality_set import ChatExport, DedupDoc, FilterCase, PiiCase, QualitySet, build  # noqa: E402

# The ChatML template as tokenizers ship it (Qwen, SmolLM, ...): a row that renders through
# it, after the strict alternation check, is a row a chat trainer can use.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass
class Side:
    """One system's results on the set."""

    pii: dict[str, dict[str, float]] = field(default_factory=dict)  # subtype -> metrics
    pii_precision: dict[str, float] = field(default_factory=dict)  # type -> precision
    near_misses: dict[str, float] = field(default_factory=dict)  # type -> share kept
    dedup: dict[str, float] = field(default_factory=dict)
    filters: dict[str, float] = field(default_factory=dict)
    chats: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------------------- PII


def score_pii(
    cases: list[PiiCase],
    prose: list[str],
    run: Callable[[str], tuple[str, Counter[str]]],
    replacements: Callable[[str], set[str]] | None = None,
) -> tuple[dict[str, dict[str, float]], dict[str, float], dict[str, float]]:
    """`run(text)` -> (output, detections by type). A value is found when it no longer
    appears in the output; its placeholder is right when the output is exactly the text
    with that value replaced by the type's placeholder (or, for datatrove, by one of its
    replacement strings). Precision counts every detection of a type on the whole set,
    good prose included."""
    found: Counter[str] = Counter()
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    tp: Counter[str] = Counter()
    detections: Counter[str] = Counter()
    near_total: Counter[str] = Counter()
    near_kept: Counter[str] = Counter()
    for case in cases:
        out, counts = run(case.text)
        detections.update(counts)
        if case.value is None:
            near_total[case.kind] += 1
            near_kept[case.kind] += out == case.text
            continue
        total[case.subtype] += 1
        hit = case.value not in out and counts[case.kind] >= 1
        found[case.subtype] += hit
        tp[case.kind] += hit
        if replacements is None:
            right[case.subtype] += out == case.expected
        else:
            right[case.subtype] += any(
                out == case.prefix + r + case.suffix for r in replacements(case.kind)
            )
    for text in prose:
        detections.update(run(text)[1])
    per_subtype = {
        sub: {"recall": found[sub] / n, "placeholder": right[sub] / n, "n": n}
        for sub, n in total.items()
    }
    kinds = {c.kind for c in cases}
    precision = {k: (tp[k] / detections[k] if detections[k] else float("nan")) for k in kinds}
    near = {k: near_kept[k] / n for k, n in near_total.items()}
    return per_subtype, precision, near


def project_pii(text: str) -> tuple[str, Counter[str]]:
    return pii.mask(text)


def datatrove_pii() -> tuple[Callable[[str], tuple[str, Counter[str]]], Callable]:
    from datatrove.pipeline.formatters import PIIFormatter

    formatter = PIIFormatter()

    def run(text: str) -> tuple[str, Counter[str]]:
        counts: Counter[str] = Counter()
        for kind, replacer in (
            ("EMAIL", formatter.emails_replacer),
            ("IP_ADDRESS", formatter.ip_replacer),
        ):
            for m in replacer.regex.finditer(text):
                if replacer.validator is None or replacer.validator(m.group(0)):
                    counts[kind] += 1
        return formatter.format(text), counts

    def replacements(kind: str) -> set[str]:
        if kind == "EMAIL":
            return set(formatter.emails_replacer.replacements)
        if kind == "IP_ADDRESS":
            return set(formatter.ip_replacer.replacements)
        return set()

    return run, replacements


# ------------------------------------------------------------------------------ dedup


def score_dedup(docs: list[DedupDoc], dropped: set[str]) -> dict[str, float]:
    """A duplicate pair is merged when exactly one of the two is left. Any other document
    dropped (a hard negative, a unique one, both of a pair) is a false merge."""
    twins = {d.id: d.twin for d in docs if d.twin}
    partners = set(twins.values())
    tp = sum((a in dropped) != (b in dropped) for a, b in twins.items())
    fp = sum(1 for a, b in twins.items() if a in dropped and b in dropped)
    fp += sum(1 for d in docs if d.id in dropped and d.id not in twins and d.id not in partners)
    hard = sum(1 for d in docs if d.kind == "hard_negative")
    hard_merged = sum(
        1 for d in docs if d.kind == "hard_negative" and (d.id in dropped or d.id[:-1] in dropped)
    )
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / len(twins)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    by_kind = Counter(d.kind for d in docs if d.twin and (d.id in dropped) != (d.twin in dropped))
    return {
        "pairs": len(twins),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "exact_recall": by_kind["exact"] / sum(d.kind == "exact" for d in docs),
        "near_recall": by_kind["near"] / sum(d.kind == "near" for d in docs),
        "hard_negatives": hard,
        "hard_negatives_merged": hard_merged,
        "false_merges": fp,
    }


def project_dedup(docs: list[DedupDoc]) -> set[str]:
    dedup = Deduplicator()
    return {d.id for d in docs if dedup.is_duplicate(d.id, d.text) is not None}


def datatrove_dedup(docs: list[DedupDoc]) -> set[str]:
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )

    config = MinhashConfig()
    with tempfile.TemporaryDirectory() as tmp:

        def documents() -> list[Document]:
            return [Document(text=d.text, id=d.id) for d in docs]

        MinhashDedupSignature(output_folder=f"{tmp}/sigs", config=config).run(iter(documents()))
        buckets = MinhashDedupBuckets(
            input_folder=f"{tmp}/sigs", output_folder=f"{tmp}/buckets", config=config
        )
        for rank in range(config.num_buckets):  # one task per bucket, as it requires
            buckets.run(rank=rank, world_size=config.num_buckets)
        MinhashDedupCluster(
            input_folder=f"{tmp}/buckets", output_folder=f"{tmp}/remove_ids", config=config
        ).run()
        kept = MinhashDedupFilter(input_folder=f"{tmp}/remove_ids").run(iter(documents()))
        kept_ids = {doc.id for doc in kept}
    return {d.id for d in docs} - kept_ids


# ---------------------------------------------------------------------------- filters


def score_filters(cases: list[FilterCase], dropped: list[bool]) -> dict[str, float]:
    filler = [d for c, d in zip(cases, dropped, strict=True) if not c.keep]
    prose = [d for c, d in zip(cases, dropped, strict=True) if c.keep]
    drops = sum(dropped)
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for c, d in zip(cases, dropped, strict=True):
        by_kind[c.kind].append(d)
    return {
        "filler": len(filler),
        "prose": len(prose),
        "filler_dropped": sum(filler) / len(filler),
        "prose_dropped": sum(prose) / len(prose),
        "precision": sum(filler) / drops if drops else 0.0,
        **{f"dropped:{k}": sum(v) / len(v) for k, v in sorted(by_kind.items())},
    }


def project_filters(cases: list[FilterCase]) -> list[bool]:
    return [quality.score(c.text)[0] < DEFAULT_QUALITY_THRESHOLD for c in cases]


def datatrove_filters(cases: list[FilterCase], short_text: bool = False) -> list[bool]:
    """datatrove's defaults are tuned for web pages (50 words, 5 sentences at least);
    `short_text` lifts those two and C4's per-line rules, for chat-sized samples."""
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    if short_text:
        stack = [
            GopherRepetitionFilter(),
            GopherQualityFilter(min_doc_words=None),
            C4QualityFilter(
                min_num_sentences=-1, min_words_per_line=-1, filter_no_terminal_punct=False
            ),
        ]
    else:
        stack = [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter()]
    out = []
    for i, c in enumerate(cases):
        doc = Document(text=c.text, id=str(i))
        keep = True
        for f in stack:
            verdict = f.filter(doc)
            if verdict is False or (isinstance(verdict, tuple) and verdict[0] is False):
                keep = False
                break
        out.append(not keep)
    return out


# ------------------------------------------------------------------------------ chats


def score_chats(chats: list[ChatExport], tmp: Path) -> dict[str, float]:
    """Parse each export as the refinery does, then check every row against the known
    conversations: which exchanges came out whole, which rows hold a message on the wrong
    side, a message of another conversation, or noise. Then refine all rows to JSONL in
    both formats and load them as trainers do."""
    expected = found = rows = wrong_side_rows = stray_rows = noise_rows = 0
    samples: list[Sample] = []
    for chat in chats:
        path = tmp / f"{chat.name}.json"
        path.write_text(json.dumps(chat.export, ensure_ascii=False))
        parsed = list(parse_discord(path, salt="bench"))
        samples.extend(parsed)
        rows += len(parsed)
        for sample in parsed:
            keys, wrong = Counter(), False
            for role, text in sample.turns:
                for message, (key, side) in chat.sides.items():
                    if message in text:
                        keys[key] += 1
                        wrong |= side != role
            wrong_side_rows += wrong
            stray_rows += len(keys) > 1
            noise_rows += any(n in t for n in chat.noise for _, t in sample.turns)
        for _key, q, a in chat.exchanges:
            expected += 1
            found += any(
                q in t1 and a in t2 and r1 == "user" and r2 == "assistant"
                for s in parsed
                for (r1, t1), (r2, t2) in itertools.pairwise(s.turns)
            )
    written, loaded, repeated = _load_rows(samples, chats, tmp)
    return {
        "exchanges": expected,
        "exchanges_recovered": found / expected,
        "rows": rows,
        "rows_wrong_side": wrong_side_rows,
        "rows_with_stray_message": stray_rows,
        "rows_with_noise": noise_rows,
        "rows_written": written,
        "rows_loaded": loaded / written if written else 0.0,
        "repeated_exchanges_left": repeated,
    }


def _load_rows(samples: list[Sample], chats: list[ChatExport], tmp: Path) -> tuple[int, int, int]:
    """Refine to ShareGPT and ChatML; load with `datasets` when installed (else json);
    each row must pass the strict alternation check and render through the ChatML
    template. Also counts how often an exchange posted twice (verbatim, later in the
    channel) still appears twice in the dataset."""
    import copy

    import jinja2

    template = jinja2.Environment().from_string(CHATML_TEMPLATE)
    written = loaded = 0
    seen: Counter[tuple[str, str]] = Counter()
    known = {pair for chat in chats for pair in chat.repeats}
    for fmt in ("sharegpt", "chatml"):
        out = tmp / f"rows-{fmt}.jsonl"
        stats = refine(
            iter(copy.deepcopy(samples)), description="Support chat", fmt=fmt, out_path=out
        )
        written += stats.rows
        for row in _read_rows(out):
            try:
                turns = row_turns(row)
                validate(turns)
                template.render(
                    messages=[{"role": r, "content": t} for r, t in turns],
                    add_generation_prompt=False,
                )
            except Exception:  # any failure is a row that does not load
                continue
            loaded += 1
            if fmt == "chatml":
                for (r1, t1), (r2, t2) in itertools.pairwise(turns):
                    if r1 == "user" and r2 == "assistant":
                        for q, a in known:
                            if q in t1 and a in t2:
                                seen[(q, a)] += 1
    return written, loaded, sum(n - 1 for n in seen.values() if n > 1)


def _read_rows(path: Path) -> list[dict[str, Any]]:
    try:
        import datasets
    except ImportError:
        return [json.loads(line) for line in path.read_text().splitlines()]
    datasets.disable_progress_bars()
    ds = datasets.load_dataset("json", data_files=str(path), split="train")
    return list(ds)


# ------------------------------------------------------------------------------- runs


def project_side(qs: QualitySet | None = None) -> Side:
    qs = qs or build()
    side = Side()
    prose = [c.text for c in qs.filters if c.keep]
    side.pii, side.pii_precision, side.near_misses = score_pii(qs.pii, prose, project_pii)
    side.dedup = score_dedup(qs.dedup, project_dedup(qs.dedup))
    side.filters = score_filters(qs.filters, project_filters(qs.filters))
    with tempfile.TemporaryDirectory() as tmp:
        side.chats = score_chats(qs.chats, Path(tmp))
    return side


def datatrove_side(qs: QualitySet) -> Side:
    side = Side()
    prose = [c.text for c in qs.filters if c.keep]
    run, replacements = datatrove_pii()
    side.pii, side.pii_precision, side.near_misses = score_pii(qs.pii, prose, run, replacements)
    side.dedup = score_dedup(qs.dedup, datatrove_dedup(qs.dedup))
    side.filters = score_filters(qs.filters, datatrove_filters(qs.filters))
    short = score_filters(qs.filters, datatrove_filters(qs.filters, short_text=True))
    side.filters.update({f"short_text:{k}": v for k, v in short.items()})
    return side


def _pct(x: float) -> str:
    return "—" if x != x else f"{100 * x:.1f} %"


def table(ours: Side, theirs: Side | None) -> str:
    def dt(get: Callable[[Side], Any], fmt: Callable[[Any], str] = _pct) -> str:
        if theirs is None:
            return "(not run)"
        try:
            return fmt(get(theirs))
        except (KeyError, TypeError):
            return "n/a"

    lines = ["| row | this project | datatrove |", "| --- | --- | --- |"]
    for sub, m in ours.pii.items():
        kind = next(k for k in ours.pii_precision if sub in _SUBTYPES.get(k, (sub,)))
        lines.append(
            f"| PII {sub} (n={m['n']}): recall / placeholder right | "
            f"{_pct(m['recall'])} / {_pct(m['placeholder'])} | "
            + dt(
                lambda s, sub=sub: (
                    f"{_pct(s.pii[sub]['recall'])} / {_pct(s.pii[sub]['placeholder'])}"
                ),
                str,
            )
            + " |"
        )
    for kind, p in sorted(ours.pii_precision.items()):
        lines.append(
            f"| PII {kind}: precision | {_pct(p)} | "
            + dt(lambda s, k=kind: s.pii_precision[k])
            + " |"
        )
    for kind, kept in sorted(ours.near_misses.items()):
        lines.append(
            f"| near-misses {kind} kept | {_pct(kept)} | "
            + dt(lambda s, k=kind: s.near_misses[k])
            + " |"
        )
    d = ours.dedup
    lines.append(
        f"| dedup ({d['pairs']} duplicate pairs, {d['hard_negatives']} hard negatives): "
        f"precision / recall / F1 | {_pct(d['precision'])} / {_pct(d['recall'])} / "
        f"{d['f1']:.3f} | "
        + dt(
            lambda s: (
                f"{_pct(s.dedup['precision'])} / {_pct(s.dedup['recall'])} / {s.dedup['f1']:.3f}"
            ),
            str,
        )
        + " |"
    )
    lines.append(
        f"| dedup: exact / near recall | {_pct(d['exact_recall'])} / {_pct(d['near_recall'])} | "
        + dt(lambda s: f"{_pct(s.dedup['exact_recall'])} / {_pct(s.dedup['near_recall'])}", str)
        + " |"
    )
    lines.append(
        f"| dedup: hard negatives merged | {d['hard_negatives_merged']} | "
        + dt(lambda s: s.dedup["hard_negatives_merged"], str)
        + " |"
    )
    f = ours.filters
    lines.append(
        f"| filter ({f['filler']} filler, {f['prose']} prose): filler dropped (recall) | "
        f"{_pct(f['filler_dropped'])} | " + dt(lambda s: s.filters["filler_dropped"]) + " |"
    )
    lines.append(
        f"| filter: precision of drops | {_pct(f['precision'])} | "
        + dt(lambda s: s.filters["precision"])
        + " |"
    )
    lines.append(
        f"| filter: good prose dropped | {_pct(f['prose_dropped'])} | "
        + dt(lambda s: s.filters["prose_dropped"])
        + " |"
    )
    for key in ("filler_dropped", "precision", "prose_dropped"):
        lines.append(
            f"| filter: {key.replace('_', ' ')}, datatrove with short-text settings | "
            f"(same as above) | " + dt(lambda s, k=key: s.filters[f"short_text:{k}"]) + " |"
        )
    for key in sorted(k for k in f if k.startswith("dropped:")):
        lines.append(
            f"| filter: {key[8:]} dropped | {_pct(f[key])} | "
            + dt(lambda s, k=key: s.filters[k])
            + " |"
        )
    c = ours.chats
    na = "n/a (no chat-export reader)"
    lines += [
        f"| chats ({c['exchanges']} known exchanges): recovered whole | "
        f"{_pct(c['exchanges_recovered'])} | {na} |",
        f"| chats: rows with a turn on the wrong side / rows | {c['rows_wrong_side']} / "
        f"{c['rows']} | {na} |",
        f"| chats: rows mixing two conversations | {c['rows_with_stray_message']} | {na} |",
        f"| chats: rows holding noise (thanks, lol, bots, strangers) | {c['rows_with_noise']} "
        f"| {na} |",
        f"| chats: exchanges still repeated after dedup | {c['repeated_exchanges_left']} | {na} |",
        f"| rows loading (`datasets` + alternation + ChatML template) | "
        f"{_pct(c['rows_loaded'])} of {c['rows_written']} | {na} |",
    ]
    return "\n".join(lines)


_SUBTYPES = {
    "PHONE": ("phone_nanp", "phone_e164", "phone_intl"),
    "IP_ADDRESS": ("ipv4", "ipv6"),
    "US_SSN": ("ssn", "ssn_context"),
    "EMAIL": ("email",),
    "CREDIT_CARD": ("card",),
    "IBAN": ("iban",),
    "PRIVATE_KEY": ("private_key",),
    "MENTION": ("mention",),
    "DISCORD_ID": ("discord_id",),
    "SECRET": ("secret",),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-datatrove", action="store_true", help="this project only")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON")
    args = parser.parse_args()
    qs = build()
    ours = project_side(qs)
    theirs = None if args.no_datatrove else datatrove_side(qs)
    print(table(ours, theirs))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"project": ours.__dict__, "datatrove": theirs and theirs.__dict__}, indent=2
            )
        )


if __name__ == "__main__":
    main()
