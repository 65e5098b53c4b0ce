"""Refinery throughput and memory, with bare `unstructured` as the document baseline.

    python bench/refine_throughput.py --discord-mb 100 --html-pages 200 --pdfs 20

1. Generates a synthetic DiscordChatExporter export of the given size (streamed to disk)
   and runs the refinery core on it (parse -> Parquet -> clean, PII, dedup, quality ->
   JSONL) in a child process: prints MB/s by wall time and by the child's CPU time (the
   per-core figure that holds on a busy machine) and the child's peak RSS.
2. Generates an HTML and PDF corpus and times, in child processes, (a) bare unstructured
   (the same partition + chunk_by_title calls, nothing else) and (b) the whole refinery on
   the same files: prints both and the overhead ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = [
    "the",
    "router",
    "keeps",
    "dropping",
    "connection",
    "after",
    "update",
    "please",
    "reset",
    "firmware",
    "settings",
    "server",
    "disk",
    "full",
    "backup",
    "failed",
    "yesterday",
    "deploy",
    "staging",
    "production",
    "database",
    "query",
    "slow",
    "index",
    "missing",
    "customer",
    "refund",
    "email",
    "ticket",
    "login",
    "password",
    "expired",
    "network",
    "latency",
    "cache",
    "build",
    "pipeline",
    "test",
    "flaky",
    "retry",
    "timeout",
    "config",
]


FUNCTION_WORDS = ["the", "to", "of", "and", "is", "it", "in", "for", "on", "with", "this", "was"]


def sentence(rng: random.Random, n: int) -> str:
    """`n` topic words with function words between them (about a third of the words, as in
    prose), so the text passes the quality filter like real chat does."""
    words = []
    for _ in range(n):
        if rng.random() < 0.5:
            words.append(rng.choice(FUNCTION_WORDS))
        words.append(rng.choice(WORDS))
    return " ".join(words).capitalize() + "."


def _author(i: int) -> dict:
    """An author as DiscordChatExporter writes it (JsonMessageWriter)."""
    return {
        "id": str(400000000000000000 + i),
        "name": f"user{i}",
        "discriminator": "0000",
        "nickname": f"User {i}",
        "color": "#1ABC9C" if i % 3 else None,
        "isBot": i == 0,
        "roles": [
            {
                "id": str(300000000000000000 + r),
                "name": f"role-{r}",
                "color": "#3498DB",
                "position": r,
            }
            for r in range(1 + i % 3)
        ],
        "avatarUrl": f"https://cdn.discordapp.com/avatars/{400000000000000000 + i}/"
        f"{i:032x}.png?size=512",
    }


def write_discord(path: Path, megabytes: float, shape: str = "full", seed: int = 7) -> int:
    """`full`: every field DiscordChatExporter writes, indented as it writes them, chat-length
    messages. `lean`: minimal fields and long messages, a content-heavy stress case."""
    rng = random.Random(seed)
    target = int(megabytes * 1024 * 1024)
    users = [_author(i) for i in range(50)]
    if shape == "lean":
        users = [{k: u[k] for k in ("id", "name", "nickname", "isBot")} for u in users]
    t = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w") as out:
        out.write(
            '{\n  "guild": {"id": "1", "name": "Bench"},\n  "channel": {"id": "2", '
            '"type": "GuildTextChat", "name": "support"},\n  "messages": [\n'
        )
        n, last_ids, first = 0, [], True
        while out.tell() < target:
            n += 1
            t += timedelta(seconds=rng.choice([20, 60, 120, 600, 3600]))
            author = rng.choice(users)
            count = rng.randint(1, 4) if shape == "lean" else rng.randint(1, 2)
            text = " ".join(sentence(rng, rng.randint(6, 18)) for _ in range(count))
            if rng.random() < 0.05:
                text += f" mail me at {author['name']}@example.com"
            msg = {"id": str(800000000000000000 + n), "type": "Default", "timestamp": t.isoformat()}
            if shape == "full":
                msg |= {"timestampEdited": None, "callEndedTimestamp": None, "isPinned": False}
            msg |= {"content": text, "author": author, "attachments": [], "embeds": []}
            if shape == "full":
                msg |= {"stickers": [], "reactions": [], "mentions": [], "inlineEmojis": []}
            if last_ids and rng.random() < 0.4:
                msg["type"] = "Reply"
                msg["reference"] = {
                    "messageId": rng.choice(last_ids[-20:]),
                    "channelId": "2",
                    "guildId": "1",
                }
            last_ids.append(msg["id"])
            body = json.dumps(msg, indent=2) if shape == "full" else json.dumps(msg)
            out.write(("" if first else ",\n") + "    " + body.replace("\n", "\n    "))
            first = False
        out.write(f'\n  ],\n  "messageCount": {n}\n}}\n')
    return path.stat().st_size


def write_documents(folder: Path, pages: int, pdfs: int, seed: int = 11) -> list[Path]:
    from weasyprint import HTML

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(pages):
        sections = "".join(
            f"<h2>{sentence(rng, 4)}</h2>"
            + "".join(f"<p>{sentence(rng, 25)} {sentence(rng, 20)}</p>" for _ in range(3))
            for _ in range(5)
        )
        path = folder / f"page{i}.html"
        path.write_text(
            f"<html><body><nav>Home | About</nav><h1>Doc {i}</h1>{sections}</body></html>"
        )
        files.append(path)
    for i in range(pdfs):
        html = "".join(
            f"<h1>{sentence(rng, 4)}</h1>"
            + "".join(f"<p>{sentence(rng, 30)}</p>" for _ in range(6))
            for _ in range(6)
        )
        path = folder / f"doc{i}.pdf"
        HTML(string=f"<html><body>{html}</body></html>").write_pdf(str(path))
        files.append(path)
    return files


CHILD_REFINE = """
import json, resource, sys, time
from pathlib import Path
from aegis_core.refine import chunks_io, pipeline
from aegis_core.refine.parsers import parse_source
from aegis_core.refine.sniff import sniff
out = Path(sys.argv[1]); files = [Path(p) for p in sys.argv[2:]]
if any(sniff(f) not in ("discord", "json", "jsonl") for f in files):
    import unstructured.partition.html, unstructured.partition.text  # before the clock,
    import unstructured.chunking.title  # as in the baseline child
start, cpu0 = time.perf_counter(), time.process_time(); rows = 0
for i, f in enumerate(files):
    chunks = out / f"c{i}.parquet"
    chunks_io.write_samples(parse_source(f, sniff(f), salt="bench"), chunks)
    repeated = pipeline.learn_repeated_lines(chunks_io.read_document_texts(chunks))
    stats = pipeline.refine(chunks_io.read_samples(chunks), description="bench", fmt="chatml",
                            out_path=out / f"o{i}.jsonl", repeated=repeated)
    rows += stats.rows
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows,
                  "cpu_seconds": time.process_time() - cpu0,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_BARE = """
import json, resource, sys, time
from pathlib import Path
from aegis_core.refine.offline import prepare
from aegis_core.refine.parsers.documents import partition, COMBINE_UNDER, MAX_CHARACTERS, NEW_AFTER
from aegis_core.refine.sniff import sniff
from unstructured.chunking.title import chunk_by_title
prepare()
files = [Path(p) for p in sys.argv[2:]]
start = time.perf_counter(); n = 0
for f in files:
    n += len(chunk_by_title(partition(f, sniff(f)), max_characters=MAX_CHARACTERS,
                            new_after_n_chars=NEW_AFTER, combine_text_under_n_chars=COMBINE_UNDER))
print(json.dumps({"seconds": time.perf_counter() - start, "rows": n,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(code: str, out: Path, files: list[Path]) -> dict:
    env = {**os.environ, "DO_NOT_TRACK": "true", "SCARF_NO_ANALYTICS": "true"}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(out), *map(str, files)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--discord-mb", type=float, default=100)
    parser.add_argument("--discord-shape", choices=["full", "lean"], default="full")
    parser.add_argument("--html-pages", type=int, default=200)
    parser.add_argument("--pdfs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--export",
        type=Path,
        help="refine this export instead of generating one (written here first if missing,"
        " so two code versions can be timed on the same file)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        export = args.export or work / "export.json"
        if not export.exists():
            write_discord(export, args.discord_mb, args.discord_shape)
        size = export.stat().st_size
        d = run_child(CHILD_REFINE, work, [export])
        mb = size / 1024 / 1024
        print(
            f"discord ({args.discord_shape:4s}) {mb:8.1f} MB  {d['seconds']:7.2f} s  "
            f"{mb / d['seconds']:6.2f} MB/s (1 core)  {mb / d['cpu_seconds']:6.2f} MB/s of CPU "
            f"time  peak RSS {d['maxrss_mb']:7.1f} MB  rows {d['rows']}"
        )
        if not args.html_pages and not args.pdfs:
            return
        docs = write_documents(work / "docs", args.html_pages, args.pdfs)
        doc_mb = sum(f.stat().st_size for f in docs) / 1024 / 1024
        bare, ours = [], []
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            bare.append(run_child(CHILD_BARE, work, docs))
            ours.append(run_child(CHILD_REFINE, work, docs))
        b = statistics.median(r["seconds"] for r in bare)
        o = statistics.median(r["seconds"] for r in ours)
        print(
            f"documents        {doc_mb:8.1f} MB  ({args.html_pages} HTML, {args.pdfs} PDF), "
            f"median of {args.repeat}"
        )
        print(
            f"  bare unstructured  {b:7.2f} s  {bare[0]['rows']} chunks  "
            f"peak RSS {max(r['maxrss_mb'] for r in bare):7.1f} MB"
        )
        print(
            f"  aegis refinery     {o:7.2f} s  {ours[0]['rows']} rows    "
            f"peak RSS {max(r['maxrss_mb'] for r in ours):7.1f} MB"
        )
        print(f"  overhead           {o / b - 1:+7.1%}")


if __name__ == "__main__":
    main()
