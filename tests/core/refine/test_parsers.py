"""Every source format parses, offline, into samples; broken sources are refused."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from aegis_core.errors import SourceRefused
from aegis_core.refine import chunks_io
from aegis_core.refine.parsers import parse_source
from aegis_core.refine.sniff import sniff
from tests.utils import samples


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing must never reach the network (unstructured would fetch its spaCy model)."""
    real = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"network disabled in tests: {address}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _parse(path: Path) -> list:
    fmt = sniff(path)
    return list(parse_source(path, fmt, salt="test-salt"))


def test_discord_conversations_from_replies_without_bots_or_system(tmp_path: Path) -> None:
    path = samples.discord_export(tmp_path / "export.json")
    assert sniff(path) == "discord"
    stats: dict[str, int] = {}
    convs = list(parse_source(path, "discord", salt="s", stats=stats))
    assert len(convs) == 3
    assert stats["dropped_bot"] == 3 and stats["dropped_system"] == 3
    first = convs[0]
    assert [r for r, _ in first.turns] == ["user", "assistant", "user", "assistant"]
    text = " ".join(t for _, t in first.turns)
    assert "Reminder" not in text and "Joined the server" not in text
    assert "@Bob" not in text and "@User_" in text  # mention -> pseudonym
    again = list(parse_source(path, "discord", salt="s"))
    assert again[0].turns == first.turns  # stable within a job
    other = list(parse_source(path, "discord", salt="other"))
    assert other[0].turns != first.turns  # not derivable across jobs


@pytest.mark.parametrize(
    ("maker", "fmt"),
    [
        (samples.html_page, "html"),
        (samples.markdown_doc, "markdown"),
        (samples.text_doc, "text"),
        (samples.pdf_doc, "pdf"),
    ],
)
def test_documents_become_titled_chunks(tmp_path: Path, maker, fmt: str) -> None:
    path = maker(tmp_path / f"doc.{fmt}")
    assert sniff(path) == fmt
    chunks = _parse(path)
    assert chunks and all(c.kind == "document" and c.text for c in chunks)
    assert any(c.title for c in chunks)
    if fmt == "pdf":
        assert {c.page for c in chunks} >= {1, 2, 3}
        assert [c.title for c in chunks][:3] == ["Chapter 1", "Chapter 2", "Chapter 3"]


@pytest.mark.parametrize("maker", [samples.jsonl_records, samples.json_records])
def test_json_records_of_both_shapes(tmp_path: Path, maker) -> None:
    parsed = _parse(maker(tmp_path / "records.json"))
    kinds = [s.kind for s in parsed]
    assert kinds == ["conversation", "conversation", "conversation", "document"]
    assert parsed[1].turns[0][0] == "user" and parsed[1].turns[1][0] == "assistant"
    assert parsed[3].title == "Returns"


@pytest.mark.parametrize(
    ("content", "fmt", "fragment"),
    [
        (b'{"a": 1}\n{"b": \n', "jsonl", "line 2"),
        (b'[{"text": "ok"}, {"text": ]', "json", "invalid JSON"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "pdf", "PDF"),
        (b'{"guild": {}, "channel": {}, "messages": [{"id": 1, ', "discord", "Discord"),
    ],
)
def test_broken_sources_are_refused_with_a_reason(
    tmp_path: Path, content: bytes, fmt: str, fragment: str
) -> None:
    path = tmp_path / "broken"
    path.write_bytes(content)
    with pytest.raises(SourceRefused, match=fragment):
        list(parse_source(path, fmt, salt="s"))


def test_chunks_round_trip_through_parquet(tmp_path: Path) -> None:
    parsed = _parse(samples.discord_export(tmp_path / "e.json"))
    out = tmp_path / "chunks.parquet"
    assert chunks_io.write_samples(iter(parsed), out) == len(parsed)
    back = list(chunks_io.read_samples(out))
    assert [(s.id, s.turns) for s in back] == [(s.id, s.turns) for s in parsed]
