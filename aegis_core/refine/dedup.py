"""Exact and near-duplicate removal at two grains, in bounded memory.

Grains. Exchanges (a question and its answer) inside one conversation: a Q&A posted again
in the same thread is kept once (`dedup_exchanges`). Rows across the dataset (a whole
conversation, or a document chunk): `Deduplicator`. Both use the same two tests.

Exact: xxh3-64 of the normalised text (lower-cased, accents stripped, digits -> 0,
punctuation -> space, whitespace collapsed), which also catches texts too short to shingle.

Near: Jaccard similarity of the sets of word bigrams of the normalised texts, at least
`THRESHOLD` (0.7). Why bigrams (datatrove uses 5-grams): an edit destroys every shingle
spanning it, so scattered edits cost n shingles each, while two texts that merely share a
template or a few sentences share contiguous blocks, which lose only the shingles at their
edges. Short shingles keep edited copies above the threshold without lifting
template-sharing pairs. Measured on pairs built from 776 real English sentences (a
greeting, a sign-off and 2 of 6 sentences shared; or a copy with 3-5 % of the words
edited): the highest pair sharing a template scored 0.63 with bigrams (0.61 with
3-grams, 0.58 with 5-grams) while the lowest edited copy scored 0.68 (0.54, 0.37).
- Inside a conversation (a handful of exchanges) the Jaccard is computed exactly.
- Across the dataset: MinHash (rensa, in Rust) with 256 permutations over the 64-bit
  shingle hashes. LSH finds candidates: 20 bands of 4 rows, P(candidate) = 1 - (1 -
  s^4)^20: 0.996 at s = 0.7, 0.73 at s = 0.5, 0.15 at 0.3. Each candidate is verified:
  the share of equal MinHash values estimates the Jaccard (standard error ~0.03 at 0.7)
  and only a pair estimated at >= THRESHOLD is dropped, so a pair sharing a template
  that meets in a band is still kept.
Memory per kept row: 256 one-byte MinHash values (b-bit MinHash: the low byte of each;
the 1/256 chance of equal low bytes is corrected for) and 20 band entries of 8 bytes in
numpy tables at most half full (~320 bytes), never texts: a 1 GB export stays well under
1 GB of memory.
"""

from __future__ import annotations

import array
import re
import string
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import xxhash
from rensa import RMinHash

THRESHOLD = 0.7
SHINGLE = 2
PERMUTATIONS = 256
BANDS, ROWS = 20, 4
SEED = 1
_PUNCT = re.compile(r"[^\w\s]")
_DIGITS = re.compile(r"\d")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # combines word hashes into shingle hashes
_CHANCE = 1 / 256  # two different MinHash values agree on their low byte by chance

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


def shingles(simple: str) -> np.ndarray:
    """The 64-bit hashes of the word bigrams of a simplified text (empty when shorter)."""
    words = simple.encode().split()
    n = len(words) - SHINGLE + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    hashes = np.fromiter(map(xxhash.xxh3_64_intdigest, words), dtype=np.uint64, count=len(words))
    out = hashes[:n].copy()
    for k in range(1, SHINGLE):
        out *= _MIX
        out += hashes[k : k + n]
    return out


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = np.union1d(a, b).size
    return np.intersect1d(a, b).size / union if union else 1.0


def minhash(hashes: np.ndarray) -> np.ndarray:
    """The 256 MinHash values (uint32) of a non-empty set of shingle hashes."""
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(
        hashes, np.array([0, hashes.size], dtype=np.uint64), PERMUTATIONS, SEED
    )
    return np.frombuffer(array.array("I", matrix.to_rows()[0]), dtype=np.uint32)


_BAND_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], np.uint64
)


def band_keys(values: np.ndarray) -> np.ndarray:
    """One 32-bit key per band: a multiply-add of its rows (MinHash values are already
    uniformly spread, so this mixes enough; a rare collision only adds a candidate)."""
    rows = values[: BANDS * ROWS].reshape(BANDS, ROWS).astype(np.uint64)
    return ((rows * _BAND_MIX[:ROWS]).sum(axis=1, dtype=np.uint64) >> np.uint64(32)).astype(
        np.uint32
    )


def estimated_jaccard(sig: np.ndarray, others: np.ndarray) -> np.ndarray:
    equal = (others == sig).mean(axis=-1)
    return (equal - _CHANCE) / (1 - _CHANCE)


class BandIndex:
    """Per band, an open-addressing table of 32-bit band keys -> the kept row that first had
    the key, in numpy. A key sits within `WINDOW` slots of its home slot, so a lookup or
    an insert is one vectorised gather over every band (no Python loop over bands); the
    table doubles when a window is full or the table is half full. A 32-bit key can
    collide; that only adds a candidate, which verification rejects."""

    WINDOW = 8

    def __init__(self, bands: int, capacity: int = 1 << 12) -> None:
        self.keys = np.zeros((bands, capacity), dtype=np.uint32)
        self.values = np.zeros((bands, capacity), dtype=np.uint32)
        self._rows = np.arange(bands)[:, None]
        self._offsets = np.arange(self.WINDOW)[None, :]
        self.size = 0

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        mask = self.keys.shape[1] - 1
        return (keys.astype(np.int64)[:, None] + self._offsets) & mask

    @staticmethod
    def _nonzero(keys: np.ndarray) -> np.ndarray:
        return np.where(keys == 0, np.uint32(1), keys)  # 0 marks an empty slot

    def candidates(self, keys: np.ndarray) -> np.ndarray:
        """The distinct kept rows sharing at least one band key."""
        keys = self._nonzero(keys)
        slots = self._slots(keys)
        found = self.keys[self._rows, slots] == keys[:, None]
        return np.unique(self.values[self._rows, slots][found])

    def add(self, keys: np.ndarray, value: int) -> None:
        keys = self._nonzero(keys)
        if (self.size + 1) * 2 > self.keys.shape[1]:
            self._grow()
        while True:
            slots = self._slots(keys)
            held = self.keys[self._rows, slots]
            free = held == 0
            need = ~(held == keys[:, None]).any(axis=1)  # bands not holding the key yet
            if free[need].any(axis=1).all():
                break
            self._grow()
        first = free.argmax(axis=1)
        bands = np.flatnonzero(need)
        at = slots[bands, first[bands]]
        self.keys[bands, at] = keys[bands]
        self.values[bands, at] = value
        self.size += 1

    def _grow(self) -> None:
        old_keys, old_values = self.keys, self.values
        bands, capacity = old_keys.shape
        while True:
            capacity *= 2
            self.keys = np.zeros((bands, capacity), dtype=np.uint32)
            self.values = np.zeros((bands, capacity), dtype=np.uint32)
            if all(self._reinsert(b, old_keys[b], old_values[b]) for b in range(bands)):
                return

    def _reinsert(self, band: int, keys: np.ndarray, values: np.ndarray) -> bool:
        """Places one band's live keys, vectorised: at each window step, every key still
        unplaced whose slot is free takes it (the first of several wanting one slot)."""
        table, slots_values = self.keys[band], self.values[band]
        live = np.flatnonzero(keys)
        keys, values = keys[live], values[live]
        home = keys.astype(np.int64) & (table.size - 1)
        pending = np.arange(keys.size)
        for step in range(self.WINDOW):
            slots = (home[pending] + step) & (table.size - 1)
            free = table[slots] == 0
            slots, wanting = slots[free], pending[free]
            taken, first = np.unique(slots, return_index=True)
            table[taken], slots_values[taken] = keys[wanting[first]], values[wanting[first]]
            placed = np.zeros(keys.size, dtype=bool)
            placed[wanting[first]] = True
            pending = pending[~placed[pending]]
            if not pending.size:
                return True
        return False


class _Signatures:
    """Kept rows' signatures, in fixed-size numpy blocks (no copy when growing)."""

    BLOCK = 1 << 14

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.size = 0

    def append(self, sig: np.ndarray) -> int:
        if self.size % self.BLOCK == 0:
            self.blocks.append(np.zeros((self.BLOCK, PERMUTATIONS), dtype=np.uint8))
        self.blocks[-1][self.size % self.BLOCK] = sig
        self.size += 1
        return self.size - 1

    def rows(self, indices: np.ndarray) -> np.ndarray:
        return np.stack([self.blocks[i // self.BLOCK][i % self.BLOCK] for i in indices.tolist()])


class Deduplicator:
    """Rows across a dataset: remembers what it kept; `is_duplicate` judges the next one."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self.exact: set[int] = set()
        self.bands = BandIndex(BANDS)
        self.signatures = _Signatures()
        self.counts = {"kept": 0, "exact_duplicates": 0, "near_duplicates": 0}

    def is_duplicate(self, key: str, text: str) -> str | None:
        """None if new (and remember it), else "exact" or "near". `key` names the sample
        in logs only."""
        simple = simplify(text)
        digest = xxhash.xxh3_64_intdigest(simple.encode())
        if digest in self.exact:
            self.counts["exact_duplicates"] += 1
            return "exact"
        hashes = shingles(simple)
        if hashes.size:
            values = minhash(hashes)
            sig, keys = values.astype(np.uint8), band_keys(values)
            found = self.bands.candidates(keys)
            if found.size and (
                estimated_jaccard(sig, self.signatures.rows(found)).max() >= self.threshold
            ):
                self.counts["near_duplicates"] += 1
                return "near"
            self.bands.add(keys, self.signatures.append(sig))
        self.exact.add(digest)
        self.counts["kept"] += 1
        return None


def unique_mask(texts: Iterable[str], threshold: float = THRESHOLD) -> list[bool]:
    """Which texts to keep: the first of each group of exact or near duplicates, decided
    exactly as the refinery decides rows (for benchmarks and evaluation sets)."""
    dedup = Deduplicator(threshold)
    return [dedup.is_duplicate(str(i), text) is None for i, text in enumerate(texts)]


def dedup_exchanges(
    turns: Sequence[tuple[str, str]], threshold: float = THRESHOLD
) -> tuple[list[tuple[str, str]], int, int]:
    """An alternating user/assistant turn list without its repeated exchanges (a question
    and its answer, exact or near an earlier one of the same conversation), with how many
    exact and near repeats were dropped. A single exchange is returned as it is."""
    if len(turns) < 4:
        return list(turns), 0, 0
    kept: list[tuple[str, str]] = []
    digests: set[int] = set()
    sets: list[np.ndarray] = []
    exact = near = 0
    for i in range(0, len(turns) - 1, 2):
        simple = simplify(turns[i][1] + "\n" + turns[i + 1][1])
        digest = xxhash.xxh3_64_intdigest(simple.encode())
        if digest in digests:
            exact += 1
            continue
        hashes = np.unique(shingles(simple))
        if hashes.size and any(jaccard(hashes, other) >= threshold for other in sets):
            near += 1
            continue
        digests.add(digest)
        if hashes.size:
            sets.append(hashes)
        kept.extend(turns[i : i + 2])
    return kept, exact, near
