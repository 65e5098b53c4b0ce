"""Exact and near-duplicate removal.

Exact: xxh3-64 of the normalised text (lower-cased, digits -> 0, punctuation -> space,
whitespace collapsed), which also catches short turns MinHash cannot judge.
Near: MinHash over word 5-gram shingles with 112 permutations, LSH with 14 bands of 8
rows (datatrove's parameters): the S-curve's threshold is (1/14)^(1/8) ~ 0.72 Jaccard
(a pair at 0.8 is caught with p ~ 0.92, at 0.7 with p ~ 0.57). A candidate found by
LSH is dropped only if its estimated Jaccard with the kept sample is >= 0.8, so the
S-curve's false positives are not dropped. Texts under 5 words are judged exactly only.
Only signatures are kept in memory, never texts.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import xxhash
from datasketch import MinHash, MinHashLSH

SHINGLE = 5
PERMUTATIONS = 112
BANDS, ROWS = 14, 8
JACCARD_DROP = 0.8
_PUNCT = re.compile(r"[^\w\s]")


def simplify(text: str) -> str:
    text = text.lower()
    if not text.isascii():  # strip accents; ASCII has none, and most text is ASCII
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"\d", "0", _PUNCT.sub(" ", text))
    return " ".join(text.split())


class Deduplicator:
    def __init__(self) -> None:
        self.exact: set[int] = set()
        self.lsh = MinHashLSH(num_perm=PERMUTATIONS, params=(BANDS, ROWS))
        self.signatures: dict[str, np.ndarray] = {}  # 112 uint32 per kept sample
        template = MinHash(num_perm=PERMUTATIONS, seed=1, hashfunc=xxhash.xxh32_intdigest)
        self._permutations, self._scheme = template.permutations, template.scheme
        self.counts = {"kept": 0, "exact_duplicates": 0, "near_duplicates": 0}

    def _minhash(self, words: list[str]) -> MinHash:
        m = MinHash(
            num_perm=PERMUTATIONS,
            seed=1,
            hashfunc=xxhash.xxh32_intdigest,
            permutations=self._permutations,
            scheme=self._scheme,
        )
        shingles = {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}
        m.update_batch([s.encode() for s in shingles])
        return m

    def is_duplicate(self, key: str, text: str) -> str | None:
        """None if new (and remember it), else "exact" or "near"."""
        simple = simplify(text)
        digest = xxhash.xxh3_64_intdigest(simple.encode())
        if digest in self.exact:
            self.counts["exact_duplicates"] += 1
            return "exact"
        words = simple.split()
        if len(words) >= SHINGLE:
            signature = self._minhash(words)
            for other in self.lsh.query(signature):
                same = np.count_nonzero(signature.hashvalues == self.signatures[other])
                if same / PERMUTATIONS >= JACCARD_DROP:
                    self.counts["near_duplicates"] += 1
                    return "near"
            self.lsh.insert(key, signature)
            self.signatures[key] = signature.hashvalues.copy()
        self.exact.add(digest)
        self.counts["kept"] += 1
        return None
