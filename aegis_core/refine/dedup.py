"""Exact and near-duplicate removal at two grains, in bounded memory.

Grains. Exchanges (a question and its answer) inside one conversation: a Q&A posted again
in the same thread is kept once (`dedup_exchanges`). Rows across the dataset (a whole
conversation, or a document chunk): `Deduplicator`. Both use the same two tests.

Exact: xxh3-64 of the normalised text (lower-cased, accents stripped, digits -> 0,
punctuation -> space, whitespace collapsed), which also catches texts too short to shingle.

Near: Jaccard similarity of the sets of word bigrams of the normalised texts, at least
`THRESHOLD` (0.75). Why bigrams (datatrove uses 5-grams): an edit destroys every shingle
spanning it, so scattered edits cost n shingles each, while two texts that merely share a
template or a few sentences share contiguous blocks, which lose only the shingles at their
edges. Short shingles keep edited copies above the threshold without lifting
template-sharing pairs. Measured (bigram / 3-gram / 5-gram Jaccard): on pairs built from
776 real English sentences (a greeting, a sign-off and 2 of 6 sentences shared, or a copy
with 3-5 % of the words edited), the highest template-sharing pair scored 0.63 / 0.61 /
0.58 and the lowest edited copy 0.68 / 0.54 / 0.37; on the labelled set of
`bench/quality_set.py`, 0.70 / 0.63 / 0.52 against 0.79 / 0.71 / 0.59. At 0.75 the
hardest template-sharing pair of either set is about two standard errors of the estimate
below the threshold; copies with heavier scattered edits fall under it (recall on the
real-sentence pairs: 99 % at 3 % of words edited, 89 % at 5 %; 100 % on the labelled
set): merging two different texts is the worse mistake.
- Inside a conversation (a handful of exchanges) the Jaccard is computed exactly.
- Across the dataset: MinHash (rensa, in Rust) with 256 permutations over the 64-bit
  shingle hashes. LSH finds candidates: 20 bands of 4 rows, P(candidate) = 1 - (1 -
  s^4)^20: 0.9995 at s = 0.75, 0.73 at s = 0.5, 0.15 at 0.3. Each candidate is verified:
  the share of equal MinHash values estimates the Jaccard (standard error ~0.03 at 0.75)
  and only a pair estimated at >= THRESHOLD is dropped, so a pair sharing a template
  that meets in a band is still kept.
Rows are judged in batches (`check_many`, as if one at a time): hashing, MinHash and
band lookups are a few numpy and rensa calls per batch rather than per row.
Memory per kept row: 256 one-byte MinHash values (b-bit MinHash: the low byte of each;
the 1/256 chance of equal low bytes is corrected for), 20 band entries of 8 bytes in
numpy tables at most half full (~320 bytes) and an exact-hash set entry, never texts: a
1 GB export stays well under 1 GB of memory.
"""

from __future__ import annotations

import array
import itertools
import re
import string
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import xxhash
from rensa import RMinHash

THRESHOLD = 0.75
SHINGLE = 2
PERMUTATIONS = 256
BANDS, ROWS = 20, 4
SEED = 1
BATCH = 256  # rows judged per call (numpy and rensa work per batch, not per row)
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


def simple_words(text: str) -> list[bytes]:
    """The words of `simplify(text)`, as bytes (the ASCII case without decoding back)."""
    lower = text.lower()
    if lower.isascii():
        return lower.encode().translate(_ASCII_SIMPLE).split()
    return simplify(lower).encode().split()


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
    return minhash_many(hashes, np.array([0, hashes.size], dtype=np.uint64))[0]


def minhash_many(hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """MinHash values (rows x 256, uint32) of the shingle sets hashes[offsets[i]:offsets[i+1]],
    in one call into rensa."""
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, PERMUTATIONS, SEED)
    flat = array.array("I", itertools.chain.from_iterable(matrix.to_rows()))
    return np.frombuffer(flat, dtype=np.uint32).reshape(-1, PERMUTATIONS)


_BAND_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], np.uint64
)


def band_keys(values: np.ndarray) -> np.ndarray:
    """One 32-bit key per band (for one row of MinHash values, or rows x values): a
    multiply-add of its rows. MinHash values are already uniformly spread, so this mixes
    enough; a rare collision only adds a candidate, which verification rejects."""
    rows = values[..., : BANDS * ROWS].reshape(*values.shape[:-1], BANDS, ROWS)
    mixed = (rows.astype(np.uint64) * _BAND_MIX[:ROWS]).sum(axis=-1, dtype=np.uint64)
    return (mixed >> np.uint64(32)).astype(np.uint32)


def estimated_jaccard(sig: np.ndarray, others: np.ndarray) -> np.ndarray:
    equal = (others == sig).mean(axis=-1)
    return (equal - _CHANCE) / (1 - _CHANCE)


class BandIndex:
    """Per band, an open-addressing table of 32-bit band keys -> the kept row that first had
    the key, in numpy: one flat uint64 array, band-major, each slot the key and the row
    packed (key << 32 | row), so a probe is one memory access. A key sits within `WINDOW`
    slots of its home slot, at the first that was free, so a probe stops at the first
    empty slot, and looking up or inserting a whole batch of rows is a few vectorised
    passes (no Python loop over rows or bands). The table doubles when it would be over
    half full; a key whose window is full is not stored (`overflow`, ~1 in 2,000 at half
    load: that row's other bands still find it). A 32-bit key can collide; that only adds
    a candidate, which verification rejects."""

    WINDOW = 16

    def __init__(self, bands: int, capacity: int = 1 << 12) -> None:
        self.bands, self.capacity = bands, capacity
        self.slots = np.zeros(bands * capacity, dtype=np.uint64)
        self.size = 0
        self.overflow = 0  # band keys not stored: their window was full (rare)

    @staticmethod
    def _nonzero(keys: np.ndarray) -> np.ndarray:
        return np.where(keys == 0, np.uint32(1), keys)  # key 0 would read as an empty slot

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(flat position in `keys`, packed slot) of every rows x bands key held."""
        flat = keys.ravel().astype(np.uint64)
        base = np.tile(np.arange(self.bands, dtype=np.int64) * self.capacity, len(keys))
        home = flat.astype(np.int64)
        mask = self.capacity - 1
        pending = np.arange(flat.size)
        found: list[tuple[np.ndarray, np.ndarray]] = []
        for step in range(self.WINDOW):
            held = self.slots[base[pending] + ((home[pending] + step) & mask)]
            hit = (held >> np.uint64(32)) == flat[pending]
            if hit.any():
                found.append((pending[hit], held[hit]))
            pending = pending[(held != 0) & ~hit]
            if not pending.size:
                break
        if not found:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64)
        return np.concatenate([p for p, _ in found]), np.concatenate([h for _, h in found])

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For rows x bands keys: (row, kept value, flat position) for every key held."""
        positions, held = self._find(self._nonzero(keys))
        values = (held & np.uint64(0xFFFFFFFF)).astype(np.int64)
        return positions // self.bands, values, positions

    def candidates(self, keys: np.ndarray) -> np.ndarray:
        """The distinct kept rows sharing at least one band key with one row's keys."""
        return np.unique(self.lookup(keys[None, :])[1])

    def add(self, keys: np.ndarray, value: int) -> None:
        self.add_many(keys[None, :], np.array([value], dtype=np.uint32))

    def add_many(
        self,
        keys: np.ndarray,
        values: np.ndarray,
        held: np.ndarray | None = None,
        distinct: bool = False,
    ) -> None:
        """Rows x bands keys, one value per row; a key already held keeps its first value.
        `held`: flat positions known held (from `lookup`, when nothing was added since);
        `distinct`: no two rows share a band key (so no pass to keep the first)."""
        keys = self._nonzero(keys)
        fresh = np.ones(keys.size, dtype=bool)
        fresh[self._find(keys)[0] if held is None else held] = False
        while (self.size + len(keys)) * 2 > self.capacity:
            self._grow()
        band = np.tile(np.arange(self.bands, dtype=np.int64), len(keys))
        packed = keys.ravel().astype(np.uint64) << np.uint64(32) | np.repeat(
            values.astype(np.uint64), self.bands
        )
        fresh = np.flatnonzero(fresh)
        if not distinct:
            pairs = band[fresh] << 32 | keys.ravel()[fresh].astype(np.int64)
            fresh = fresh[np.sort(np.unique(pairs, return_index=True)[1])]  # first row wins
        self.overflow += self._place(band[fresh], packed[fresh]).size
        self.size += len(keys)

    def _place(self, band: np.ndarray, packed: np.ndarray) -> np.ndarray:
        """Puts packed slots, distinct (band, key), in free slots of their windows,
        vectorised: at each window step every pending one whose slot is free is written
        there; where several wanted one slot the last write stands, and the others go on
        to the next step. Returns the positions it could not place."""
        mask = self.capacity - 1
        base = band.astype(np.int64) * self.capacity
        home = (packed >> np.uint64(32)).astype(np.int64)
        pending = np.arange(packed.size)
        for step in range(self.WINDOW):
            if not pending.size:
                break
            slots = base[pending] + ((home[pending] + step) & mask)
            free = self.slots[slots] == 0
            trying, slots = pending[free], slots[free]
            self.slots[slots] = packed[trying]
            won = self.slots[slots] == packed[trying]
            pending = np.concatenate([pending[~free], trying[~won]])
        return pending

    def _grow(self) -> None:
        """Doubles the table, re-placing one band at a time (temporaries stay per band)."""
        old, old_capacity = self.slots, self.capacity
        self.capacity *= 2
        self.slots = np.zeros(self.bands * self.capacity, dtype=np.uint64)
        for band in range(self.bands):
            part = old[band * old_capacity : (band + 1) * old_capacity]
            live = part[part != 0]
            self.overflow += self._place(np.full(live.size, band), live).size


class _Signatures:
    """Kept rows' signatures, in fixed-size numpy blocks (no copy when growing)."""

    BLOCK = 1 << 14

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.size = 0

    def extend(self, sigs: np.ndarray) -> int:
        """Appends rows; returns the index of the first."""
        start = self.size
        for sig in sigs:  # usually a handful per batch
            if self.size % self.BLOCK == 0:
                self.blocks.append(np.zeros((self.BLOCK, PERMUTATIONS), dtype=np.uint8))
            self.blocks[-1][self.size % self.BLOCK] = sig
            self.size += 1
        return start

    def rows(self, indices: Iterable[int]) -> np.ndarray:
        return np.stack([self.blocks[i // self.BLOCK][i % self.BLOCK] for i in indices])


class Deduplicator:
    """Rows across a dataset: remembers what it kept; judges the next rows in order."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self.exact: set[int] = set()
        self.bands = BandIndex(BANDS)
        self.signatures = _Signatures()
        self.counts = {"kept": 0, "exact_duplicates": 0, "near_duplicates": 0}

    def is_duplicate(self, key: str, text: str) -> str | None:
        """None if new (and remember it), else "exact" or "near". `key` names the sample
        in logs only."""
        return self.check_many([text])[0]

    def check_many(self, texts: Sequence[str]) -> list[str | None]:
        """Each text judged against everything kept before it, this batch included: None
        if new (and remembered), else "exact" or "near". One batch costs a few numpy and
        rensa calls, not a few per text."""
        digests, bigrams, offsets, shingled = _hashed(texts)
        row_of = dict(zip(shingled, range(len(shingled)), strict=True))
        earlier: dict[int, list[int]] = {}  # row -> kept rows (signature index) it meets
        runs: _Runs | None = None
        if shingled:
            values = minhash_many(bigrams, offsets)
            sigs, keys = values.astype(np.uint8), band_keys(values)
            rows, kept, positions = self.bands.lookup(keys)
            for row, value in zip(rows.tolist(), kept.tolist(), strict=True):
                earlier.setdefault(row, []).append(value)
            held = np.zeros(keys.shape, dtype=bool)
            held.ravel()[positions] = True
            runs = _shared_band_keys(keys)
        new_rows: list[int] = []
        kept_rows: set[int] = set()
        verdicts: list[str | None] = []
        for i, digest in enumerate(digests):
            if digest in self.exact:
                self.counts["exact_duplicates"] += 1
                verdicts.append("exact")
                continue
            row = row_of.get(i)
            if row is not None:
                mates = runs.mates(row, kept_rows) if runs else []
                if (row in earlier or mates) and self._near(sigs, row, earlier.get(row), mates):
                    self.counts["near_duplicates"] += 1
                    verdicts.append("near")
                    continue
                new_rows.append(row)
                kept_rows.add(row)
            self.exact.add(digest)
            self.counts["kept"] += 1
            verdicts.append(None)
        if new_rows:
            start = self.signatures.extend(sigs[new_rows])
            self.bands.add_many(
                keys[new_rows],
                np.arange(start, start + len(new_rows)),
                held=np.flatnonzero(held[new_rows]),
                distinct=runs is None,
            )
        return verdicts

    def _near(
        self, sigs: np.ndarray, row: int, earlier: list[int] | None, mates: list[int]
    ) -> bool:
        """Whether the estimated Jaccard with a kept row it met in a band reaches the
        threshold: the verification that keeps template-sharing pairs."""
        others = [self.signatures.rows(sorted(set(earlier)))] if earlier else []
        if mates:
            others.append(sigs[mates])
        return bool(estimated_jaccard(sigs[row], np.concatenate(others)).max() >= self.threshold)


class _Runs:
    """Rows of one batch that share a band key, by key, in row order."""

    def __init__(self, by_code: dict[int, list[int]], codes: np.ndarray) -> None:
        self.by_code, self.codes = by_code, codes
        self.rows = set(itertools.chain.from_iterable(by_code.values()))

    def mates(self, row: int, kept: set[int]) -> list[int]:
        """For each band key the row shares, the first earlier row of the batch kept."""
        if row not in self.rows:
            return []
        found = set()
        for code in self.codes[row].tolist():
            for other in self.by_code.get(code, ()):
                if other >= row:
                    break
                if other in kept:
                    found.add(other)
                    break
        return sorted(found)


def _shared_band_keys(keys: np.ndarray) -> _Runs | None:
    """Which rows of a batch share a band key with another row (None when none do)."""
    codes = np.arange(keys.shape[1], dtype=np.int64) << 32 | keys.astype(np.int64)
    flat = codes.ravel()
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    shared = np.flatnonzero(counts[inverse] > 1)
    if not shared.size:
        return None
    by_code: dict[int, list[int]] = {}
    for position, code in zip(shared.tolist(), flat[shared].tolist(), strict=True):
        by_code.setdefault(code, []).append(position // keys.shape[1])
    return _Runs(by_code, codes)


def _hashed(texts: Sequence[str]) -> tuple[list[int], np.ndarray, np.ndarray, list[int]]:
    """For a batch: each text's exact key (xxh3 of its word hashes), the bigram hashes of
    the texts long enough to shingle (flat, with row offsets, as rensa takes them), and
    which texts those are. Every word is hashed once, in one pass over the batch."""
    words = list(map(simple_words, texts))
    counts = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    hashes = np.fromiter(
        map(xxhash.xxh3_64_intdigest, itertools.chain.from_iterable(words)),
        dtype=np.uint64,
        count=int(counts.sum()),
    )
    ends = np.cumsum(counts)
    raw = hashes.tobytes()
    digests = [
        xxhash.xxh3_64_intdigest(raw[8 * start : 8 * end])
        for start, end in zip((ends - counts).tolist(), ends.tolist(), strict=True)
    ]
    pairs = hashes[:-1] * _MIX + hashes[1:]  # every adjacent pair, across texts too
    keep = np.ones(pairs.size, dtype=bool)
    last = ends - 1  # a text's last word starts no bigram (nor does an empty text's end)
    keep[last[(last >= 0) & (last < pairs.size)]] = False
    bigram_counts = np.maximum(counts - 1, 0)
    shingled = np.flatnonzero(counts >= SHINGLE)
    offsets = np.zeros(shingled.size + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum(bigram_counts[shingled])
    return digests, pairs[keep], offsets, shingled.tolist()


def unique_mask(texts: Iterable[str], threshold: float = THRESHOLD) -> list[bool]:
    """Which texts to keep: the first of each group of exact or near duplicates, decided
    exactly as the refinery decides rows (for benchmarks and evaluation sets)."""
    dedup = Deduplicator(threshold)
    verdicts: list[str | None] = []
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == BATCH:
            verdicts += dedup.check_many(batch)
            batch = []
    return [v is None for v in verdicts + dedup.check_many(batch)]


def dedup_exchanges(
    turns: Sequence[tuple[str, str]], threshold: float = THRESHOLD
) -> tuple[list[tuple[str, str]], int, int]:
    """An alternating user/assistant turn list without its repeated exchanges (a question
    and its answer, exact or near an earlier one of the same conversation), with how many
    exact and near repeats were dropped. A single exchange is returned as it is. Bigram
    sets are built only for pairs whose lengths allow a Jaccard near the threshold."""
    if len(turns) < 4:
        return list(turns), 0, 0
    kept: list[tuple[str, str]] = []
    digests: set[int] = set()
    earlier: list[tuple[list[bytes], list[frozenset[tuple[bytes, bytes]]]]] = []
    exact = near = 0
    for i in range(0, len(turns) - 1, 2):
        words = simple_words(turns[i][1] + "\n" + turns[i + 1][1])
        digest = xxhash.xxh3_64_intdigest(b" ".join(words))
        if digest in digests:
            exact += 1
            continue
        digests.add(digest)
        mine: list[frozenset[tuple[bytes, bytes]]] = []  # its bigram set, once built
        if len(words) >= SHINGLE and any(
            _close_enough(words, mine, theirs, cache, threshold) for theirs, cache in earlier
        ):
            near += 1
            continue
        earlier.append((words, mine))
        kept.extend(turns[i : i + 2])
    return kept, exact, near


def _close_enough(
    words: list[bytes],
    mine: list[frozenset[tuple[bytes, bytes]]],
    theirs: list[bytes],
    cache: list[frozenset[tuple[bytes, bytes]]],
    threshold: float,
) -> bool:
    """Exact bigram Jaccard >= threshold; word counts too far apart (a Jaccard is at most
    the ratio of the set sizes, and half the threshold leaves room for repeats) skip it."""
    if len(theirs) < SHINGLE or min(len(words), len(theirs)) < threshold / 2 * max(
        len(words), len(theirs)
    ):
        return False
    for ws, slot in ((words, mine), (theirs, cache)):
        if not slot:
            slot.append(frozenset(itertools.pairwise(ws)))
    a, b = mine[0], cache[0]
    return len(a & b) >= threshold * len(a | b)
