"""docs/API_CONTRACT.md cannot drift from the app: every operation in the OpenAPI document
has its own section there and vice versa, with a curl example and a status line naming at
least every status code the operation declares."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from api.main import create_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "API_CONTRACT.md"
OUTSIDE = "## Routes outside the OpenAPI document"
HEADING = re.compile(r"^### `(GET|POST|PUT|PATCH|DELETE) (/\S*)`$", re.MULTILINE)
STATUS_LINE = re.compile(r"^\*\*Status codes:\*\*(.*?)(?:\n\n|\Z)", re.MULTILINE | re.DOTALL)
METHODS = ("get", "post", "put", "patch", "delete")

Operation = tuple[str, str]


def documented() -> dict[Operation, str]:
    """Each endpoint heading of the doc (before the section the schema leaves out) and
    its section's text."""
    text = DOC.read_text(encoding="utf-8").split(OUTSIDE)[0]
    matches = list(HEADING.finditer(text))
    sections: dict[Operation, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[match.end() : end]
        body = re.split(r"^##? ", body, flags=re.MULTILINE)[0]  # up to the next section
        op = (match[1], match[2])
        assert op not in sections, f"{op} is documented twice"
        sections[op] = body
    return sections


@lru_cache(maxsize=1)
def declared() -> dict[Operation, set[str]]:
    """Each operation of the live OpenAPI document and its declared status codes."""
    schema = create_app().openapi()
    return {
        (method.upper(), path): set(operation["responses"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_doc_and_openapi_list_the_same_operations() -> None:
    doc, live = set(documented()), set(declared())
    assert len(live) >= 20  # the parse found the app's operations at all
    assert sorted(live - doc) == [], "operations missing from docs/API_CONTRACT.md"
    assert sorted(doc - live) == [], "documented operations the app does not have"


@pytest.mark.parametrize("op", sorted(declared()), ids=lambda op: f"{op[0]} {op[1]}")
def test_each_section_has_an_example_and_its_status_codes(op: Operation) -> None:
    section = documented().get(op)
    assert section is not None, f"{op} has no section"
    curls = re.findall(r"^curl .*$", section, re.MULTILINE)
    if op[0] != "GET":
        curls = [c for c in curls if f"-X {op[0]} " in c]
    assert curls, f"{op}: no curl example using {op[0]}"
    line = STATUS_LINE.search(section)
    assert line is not None, f"{op}: no **Status codes:** line"
    named = set(re.findall(r"`(\d{3})`", line[1]))
    missing = declared()[op] - named
    assert not missing, f"{op}: status codes declared by the app but not documented: {missing}"
