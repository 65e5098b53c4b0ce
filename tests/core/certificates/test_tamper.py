"""Changing or removing any single field of a real signed certificate breaks verification.

The certificate is issued once, at collection, for a completed job on SQLite; the test is
parametrized over every leaf of it (proof included).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from aegis_core.certificates import content, verify
from tests.core.certificates.conftest import sample

Path_ = tuple[str | int, ...]


def leaves(value: Any, path: Path_ = ()) -> Iterator[Path_]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path


def changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return ["x"]
    if isinstance(value, dict):
        return {"x": 1}
    return "x"  # null


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "leaf" in metafunc.fixturenames:
        paths = list(leaves(sample()[0]))
        metafunc.parametrize("leaf", paths, ids=[".".join(map(str, p)) for p in paths])


def _parent(doc: Any, path: Path_) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


def test_the_sample_verifies() -> None:
    cert, doc, dataset, _ = sample()
    assert verify.verify_certificate(cert, doc, dataset).ok
    assert len(list(leaves(cert))) > 100


@pytest.mark.parametrize("mutation", ["change", "remove"])
def test_any_single_field_changed_or_removed_breaks_verification(
    leaf: Path_, mutation: str
) -> None:
    cert, doc, _, _ = sample()
    tampered = copy.deepcopy(cert)
    parent = _parent(tampered, leaf)
    if mutation == "change":
        parent[leaf[-1]] = changed(parent[leaf[-1]])
    else:
        del parent[leaf[-1]]
    result = verify.verify_certificate(tampered, doc)
    assert not result.ok, f"{mutation} of {leaf} still verifies"
    assert result.reason in (verify.SIGNATURE, verify.MALFORMED, verify.KEY)


@pytest.mark.parametrize("where", [(), ("credentialSubject",), ("proof",)])
def test_an_added_field_breaks_verification(where: tuple[str, ...]) -> None:
    cert, doc, _, _ = sample()
    tampered = copy.deepcopy(cert)
    _parent(tampered, (*where, "note"))["note"] = "added later"
    assert not verify.verify_certificate(tampered, doc).ok


@pytest.mark.parametrize(
    ("checks", "verdict"),
    [
        ([], "pass"),
        ([{"name": "a", "passed": True}], "pass"),
        ([{"name": "a", "passed": False, "severity": "WARN"}], "pass_with_warnings"),
        ([{"name": "a", "passed": False, "severity": "WARN", "blocking": True}], "fail"),
        ([{"name": "a", "passed": True}, {"name": "b", "passed": False}], "fail"),
    ],
)
def test_the_verdict_follows_the_checks(checks: list, verdict: str) -> None:
    assert content.verdict(content.checks_of(checks)) == verdict
