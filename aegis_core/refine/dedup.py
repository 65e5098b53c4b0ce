"""Exact and near-duplicate removal, in bounded memory.

Exact: xxh3-64 of the normalised text (lower-cased, accents stripped, digits -> 0,
punctuation -> space, whitespace collapsed), which also catches short turns MinHash
cannot judge.
Near: MinHash (rensa, in Rust) over word 5-gram shingles with 112 permutations, LSH
with 14 bands of 8 rows (datatrove's parameters). A sample is a near duplicate when any of its bands
collides with a kept sample's band: P(drop) = 1 - (1 - s^8)^14 for Jaccard s, an S-curve
with threshold (1/14)^(1/8) ~ 0.72 (p ~ 0.57 at s = 0.7, 0.92 at 0.8, 0.99 at 0.85).
Only 64-bit band keys are kept, in numpy hash tables (about 250 bytes per kept sample),
never texts or signatures, so a 1 GB export stays well under 1 GB of memory. Texts under 5
words are judged exactly only.
"""

from __future__ import annotations

import re
import string
import unicodedata

import numpy as np
import xxhash
from rensa import RMinHash

SHINGLE = 5
PERMUTATIONS = 112
BANDS, ROWS = 14, 8
_PUNCT = re.compile(r"[^\w\s]")
_DIGITS = re.compile(r"\d")


_KEEP_UNDERSCORE = string.punctuation.replace("_", "")  # \w keeps "_", as _PUNCT does
_ASCII_SIMPLE = bytes.maketrans(
    (_KEEP_UNDERSCORE + string.digits).encode(),
    (" " * len(_KEEP_UNDERSCORE) + "0" * 10).encode(),
)


def simplify(text: str) -> str:
    text = text.lower()
    if text.isascii():  # the common case: one C-level pass
        return " ".join(text.encode().translate(_ASCII_SIMPLE).decode().split())
    text = unicodedata.normalize("NFKD", text)  # strip accents, then the general rules
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_DIGITS.sub("0", _PUNCT.sub(" ", text)).split())


class BandIndex:
    """One open-addressing table of 64-bit keys per band, in numpy: 8 bytes a slot at
    most half full (~16 bytes a key), where a Python set costs ~90 bytes a key."""

    def __init__(self, bands: int, capacity: int = 1 << 12) -> None:
        self.tables = np.zeros((bands, capacity), dtype=np.uint64)
        self._rows = np.arange(bands)
        self.size = 0

    def _slot(self, band: int, key: int) -> tuple[int, bool]:
        table = self.tables[band]
        mask = table.shape[0] - 1
        i = key & mask
        while True:
            current = int(table[i])
            if current == 0:
                return i, False
            if current == key:
                return i, True
            i = (i + 1) & mask

    def contains_any(self, keys: list[int]) -> bool:
        # One vectorized probe of every band's home slot; walk a chain only where the home
        # slot holds some other key (rare at half load).
        wanted = np.array([k or 1 for k in keys], dtype=np.uint64)
        mask = np.uint64(self.tables.shape[1] - 1)
        home = self.tables[self._rows, wanted & mask]
        if (home == wanted).any():
            return True
        busy = np.flatnonzero(home != 0)
        return any(self._slot(int(b), int(wanted[b]))[1] for b in busy)

    def add(self, keys: list[int]) -> None:
        if (self.size + 1) * 2 > self.tables.shape[1]:
            self._grow()
        wanted = np.array([k or 1 for k in keys], dtype=np.uint64)
        slots = wanted & np.uint64(self.tables.shape[1] - 1)
        home = self.tables[self._rows, slots]
        free = home == 0
        self.tables[self._rows[free], slots[free]] = wanted[free]  # the usual case, at once
        for band in np.flatnonzero(~free & (home != wanted)):  # collisions: probe onwards
            slot, present = self._slot(int(band), int(wanted[band]))
            if not present:
                self.tables[band, slot] = wanted[band]
        self.size += 1

    def _grow(self) -> None:
        old = self.tables
        self.tables = np.zeros((old.shape[0], old.shape[1] * 2), dtype=np.uint64)
        for band in range(old.shape[0]):
            for key in old[band][old[band] != 0].tolist():
                slot, _ = self._slot(band, key)
                self.tables[band, slot] = key


class Deduplicator:
    def __init__(self) -> None:
        self.exact: set[int] = set()
        self.bands = BandIndex(BANDS)
        self.counts = {"kept": 0, "exact_duplicates": 0, "near_duplicates": 0}

    @staticmethod
    def _band_keys(words: list[str]) -> list[int]:
        minhash = RMinHash(num_perm=PERMUTATIONS, seed=1)
        grams = zip(*(words[k:] for k in range(SHINGLE)), strict=False)  # stops at the shortest
        minhash.update(list(set(map(" ".join, grams))))
        raw = np.asarray(minhash.digest(), dtype=np.uint32).tobytes()
        width = len(raw) // BANDS
        return [xxhash.xxh3_64_intdigest(raw[b * width : (b + 1) * width]) for b in range(BANDS)]

    def is_duplicate(self, key: str, text: str) -> str | None:
        """None if new (and remember it), else "exact" or "near". `key` names the sample
        in logs only."""
        simple = simplify(text)
        digest = xxhash.xxh3_64_intdigest(simple.encode())
        if digest in self.exact:
            self.counts["exact_duplicates"] += 1
            return "exact"
        words = simple.split()
        if len(words) >= SHINGLE:
            keys = self._band_keys(words)
            if self.bands.contains_any(keys):
                self.counts["near_duplicates"] += 1
                return "near"
            self.bands.add(keys)
        self.exact.add(digest)
        self.counts["kept"] += 1
        return None
