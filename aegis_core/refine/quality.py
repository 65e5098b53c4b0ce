"""A per-sample quality score in [0, 1], in the spirit of Gopher and C4, adapted to chat.

Each rule gives a penalty in [0, 1]; the score is the product of (1 - penalty). Rules:
- length: under 20 words (whole sample) ramps to zero at 3 words;
- mean word length outside 3-10 characters (Gopher);
- symbol ratio: '#' and '...' per word above 0.1 (Gopher);
- non-alphabetic words: under 80 % of words containing a letter (Gopher);
- duplicate lines: more than 30 % of lines repeated (Gopher repetition);
- top 2-gram covering more than 20 % of characters (Gopher repetition);
- stop words: fewer than 2 distinct English stop words (Gopher);
- placeholders: a sample that is mostly PII placeholders carries little content.
C4's line rules (terminal punctuation, 'javascript', ...) are skipped: they are tuned
for web pages and reject ordinary chat turns. Samples scoring under the threshold
(default 0.5) are dropped with the name of their worst rule.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

STOP_WORDS = frozenset(
    {
        "the",
        "be",
        "to",
        "of",
        "and",
        "that",
        "have",
        "with",
        "a",
        "is",
        "it",
        "you",
        "i",
        "in",
        "for",
        "on",
        "this",
        "not",
        "are",
        "was",
    }
)
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
# A whitespace-separated word without a single letter (non-ASCII counts as a letter).
_NO_LETTER_WORD = re.compile(r"(?<!\S)[^\sA-Za-z\u00c0-\U0010ffff]+(?!\S)")


def rule_penalties(text: str) -> dict[str, float]:
    words = text.split()
    n = len(words)
    if n == 0:
        return {"empty": 1.0}
    out: dict[str, float] = {}
    if n < 20:
        out["too_short"] = min(1.0, (20 - n) / 17)
    total_chars = sum(map(len, words))
    mean = total_chars / n
    if mean < 3 or mean > 10:
        out["word_length"] = min(1.0, abs(mean - (3 if mean < 3 else 10)) / 3)
    symbols = (text.count("#") + text.count("...")) / n
    if symbols > 0.1:
        out["symbols"] = min(1.0, (symbols - 0.1) * 5)
    alpha = 1 - len(_NO_LETTER_WORD.findall(text)) / n
    if alpha < 0.8:
        out["non_alpha"] = min(1.0, (0.8 - alpha) * 2.5)
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if len(lines) > 2:
        dup = 1 - len(set(lines)) / len(lines)
        if dup > 0.3:
            out["duplicate_lines"] = min(1.0, (dup - 0.3) * 2)
    lower = text.lower().split()
    distinct = set(lower)
    # A bigram seen k times needs k repeats of its words, so k <= (n - distinct + 2) / 2;
    # count bigrams only when that bound could reach the 20 % coverage rule.
    k_max = (n - len(distinct) + 2) // 2
    if n >= 10 and k_max * 2 * max(map(len, words)) > 0.2 * total_chars:
        bigrams = Counter(itertools.pairwise(lower))
        (a, b), count = bigrams.most_common(1)[0]
        coverage = count * (len(a) + len(b)) / max(1, total_chars)
        if coverage > 0.2 and count > 1:
            out["repeated_ngram"] = min(1.0, (coverage - 0.2) * 2.5)
    if n >= 8 and len(STOP_WORDS & distinct) < 2:
        out["no_stop_words"] = 0.5
    placeholders = len(_PLACEHOLDER.findall(text)) / n if "[" in text else 0.0
    if placeholders > 0.3:
        out["mostly_placeholders"] = min(1.0, placeholders)
    return out


def score(text: str) -> tuple[float, str | None]:
    """The score and the rule that cost the most (None when nothing did)."""
    penalties = rule_penalties(text)
    value = 1.0
    for p in penalties.values():
        value *= 1.0 - p
    worst = max(penalties, key=penalties.get) if penalties else None
    return round(value, 4), worst


def histogram(scores: list[float], bins: int = 10) -> list[int]:
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, int(s * bins))] += 1
    return counts
