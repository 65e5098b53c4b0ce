"""A per-sample quality score in [0, 1], in the spirit of Gopher and C4, adapted to chat.

Each rule gives a penalty in [0, 1]; the score is the product of (1 - penalty). Rules:
- length: under 20 words (whole sample) ramps to zero at 3 words;
- mean word length outside 3-10 characters (Gopher);
- symbol ratio: '#' and '...' per word above 0.1 (Gopher);
- non-alphabetic words: under 80 % of words containing a letter (Gopher; emoji and
  punctuation are not letters);
- duplicate lines: more than 30 % of lines repeated (Gopher repetition);
- top 2-gram covering more than 20 % of characters (Gopher repetition);
- stop words: from 8 words on, fewer than 2 distinct function words of English or another
  common Latin-script language (STOP_WORDS: en, es, fr, de, it, pt, nl), or function words
  under 10 % of the words, drops the sample: gibberish, word salad, keyword lists and emoji
  runs have next to none, prose in any of these languages 20-55 % (Gopher's rule, with a
  list wide enough not to drop terse chat);
- lorem ipsum: 30 % or more of the words from the lorem-ipsum vocabulary drops the
  sample (C4 drops any page naming it; a sentence about "lorem ipsum" stays here);
- template filler: 30 % or more of the sentences are placeholder phrases ("Insert your
  text here", "Click to edit", "Coming soon", "Sample text") drops the sample;
- placeholders: a sample that is mostly PII placeholders carries little content.
C4's line rules (terminal punctuation, 'javascript', ...) are skipped: they are tuned
for web pages and reject ordinary chat turns. Samples scoring under the threshold
(default 0.5) are dropped with the name of their worst rule.
"""

from __future__ import annotations

import itertools
import re
import string
from collections import Counter

# Function words: English (Gopher's 8 and the commonest others), then Spanish, French,
# German, Italian, Portuguese and Dutch. Words that are also lorem-ipsum words ("in",
# "et", "non", "est", "qui", "a", "do") count, which is why lorem ipsum has its own rule.
STOP_WORDS = frozenset(
    """the be to of and that have with a an is it you i in for on this not are was were
    but or as at by from he she they we my your our his her their its me him them there
    what which who when where how why if then than so do does did can could will would
    should has had been being am no yes all any some just also about into out up over
    el la los las de del que y en un una es por con para se lo su al como pero más
    le les des du et est une pour dans qui ne pas sur au avec ce il elle nous vous je
    der die das und ist nicht ein eine zu den mit von auf für sich dem des im ich wir
    il di che è per una non sono con gli della alla nel anche
    o os as um uma não com para por mais como seu sua
    het een van en ik je niet dat op te zijn met voor""".split()  # noqa: SIM905 (a word list)
)
# The words of the lorem-ipsum passages that generators draw from (classic, Cicero's
# de finibus as Faker and lorem packages use it), minus words common in real languages.
LOREM_WORDS = frozenset(
    """lorem ipsum dolor sit amet consectetur consectetuer adipiscing adipisci elit sed
    eiusmod tempor incididunt labore dolore magna aliqua enim minim veniam quis nostrud
    exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure
    reprehenderit voluptate velit esse cillum eu fugiat nulla pariatur excepteur sint
    occaecat cupidatat proident sunt culpa officia deserunt mollit anim id laborum
    curabitur pretium tincidunt lacus gravida orci odio nullam varius turpis pharetra eros
    bibendum nec luctus felis sollicitudin mauris integer nibh euismod ac tellus risus
    vulputate vehicula donec lobortis etiam ut ullamcorper ligula congue sapien quam
    maecenas fermentum mi vestibulum aliquam aenean vel vitae justo pellentesque morbi
    praesent phasellus suspendisse faucibus dictum tortor nunc ante ipsa quae ab illo
    inventore veritatis quasi architecto beatae vitae dicta explicabo nemo voluptatem
    voluptas aspernatur aut odit fugit consequuntur magni dolores eos ratione sequi
    nesciunt neque porro quisquam dolorem quia numquam eius modi tempora incidunt
    magnam quaerat accusantium doloremque laudantium totam rem aperiam eaque perspiciatis
    unde omnis iste natus error quo voluptatum deleniti atque corrupti quos molestias
    excepturi occaecati cupiditate similique mollitia animi dolorum fuga harum quidem
    rerum facilis expedita distinctio nam libero tempore cum soluta nobis eligendi optio
    cumque nihil impedit minus quod maxime placeat facere possimus assumenda repellendus
    temporibus autem quibusdam officiis debitis necessitatibus saepe eveniet voluptates
    repudiandae recusandae itaque earum hic tenetur sapiente delectus reiciendis
    voluptatibus maiores alias perferendis doloribus asperiores repellat""".split()  # noqa: SIM905
)
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
# A whitespace-separated word without a single letter (emoji, symbols and digits are not
# letters; accents are). ASCII-only text counts them without a regex: delete every byte
# that is neither a letter nor whitespace, and the words with no letter are the ones gone.
_NO_LETTER_WORD_U = re.compile(r"(?<!\S)(?:[^\w\s]|[\d_])+(?!\S)")
_ASCII_NOT_LETTER_OR_SPACE = bytes(
    c for c in range(128) if not (chr(c).isalpha() or chr(c).isspace())
)
_ASCII_NON_LETTERS = bytes.maketrans(
    (string.punctuation + string.digits).encode(), b" " * len(string.punctuation + string.digits)
)
_ALPHA = re.compile(r"[^\W\d_]+")  # letter runs: words without their punctuation
_SENTENCES = re.compile(r"[.!?]+(?=\s|$)|\n")
_TEMPLATE_FILLER = re.compile(
    r"(?i)\b(?:(?:insert|add|enter|type|write|put|place)\b[^.!?\n]{0,30}"
    r"\b(?:text|content|copy|description|title|headline|caption|tagline)\b[^.!?\n]{0,20}\bhere"
    r"|click (?:here )?to (?:edit|add|change|replace)|goes here|(?:sample|dummy|filler|"
    r"placeholder|example) (?:text|paragraph|content|title|heading)"
    r"|coming soon|under construction|replace this (?:text|paragraph|with)"
    r"|your (?:text|content|title|headline|description|name) here"
    r"|this page (?:is )?intentionally left blank)\b"
)
_FILLER_MARKERS = (  # substrings any template filler has; the regex runs only then
    " here",
    "click",
    "sample",
    "dummy",
    "filler",
    "placeholder",
    "example text",
    "example paragraph",
    "coming soon",
    "under construction",
    "replace this",
    "intentionally",
)
LOREM_SHARE, FILLER_SHARE, STOP_SHARE = 0.3, 0.3, 0.1


def _letter_words(lowered: str) -> list[str]:
    if lowered.isascii():  # the common case: punctuation and digits to spaces, in C
        return lowered.encode().translate(_ASCII_NON_LETTERS).decode().split()
    return _ALPHA.findall(lowered)


def _share(words: list[str], of: set[str]) -> float:
    counts = Counter(words)
    return sum(counts[w] for w in of) / len(words)


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
    if text.isascii():
        kept = text.encode().translate(None, _ASCII_NOT_LETTER_OR_SPACE).decode().split()
        no_letter = n - len(kept)
    else:
        no_letter = len(_NO_LETTER_WORD_U.findall(text))
    alpha = 1 - no_letter / n
    if alpha < 0.8:
        out["non_alpha"] = min(1.0, (0.8 - alpha) * 2.5)
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if len(lines) > 2:
        dup = 1 - len(set(lines)) / len(lines)
        if dup > 0.3:
            out["duplicate_lines"] = min(1.0, (dup - 0.3) * 2)
    lowered = text.lower()
    lower = lowered.split()
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
    if n >= 8:
        # The split words (`distinct`) settle most samples; the exact letter-only words are
        # computed only for the ones near a line.
        stops, lorem = STOP_WORDS & distinct, LOREM_WORDS & distinct
        thin = len(stops) < max(2, STOP_SHARE * len(distinct))
        if thin or len(lorem) >= 4:
            letter_words = _letter_words(lowered)
            vocabulary = set(letter_words)
            stops, lorem = STOP_WORDS & vocabulary, LOREM_WORDS & vocabulary
            if len(stops) < 2 or (
                len(stops) < STOP_SHARE * len(vocabulary)
                and _share(letter_words, stops) < STOP_SHARE
            ):
                out["no_stop_words"] = 1.0
            if len(lorem) >= 5 and _share(letter_words, lorem) >= LOREM_SHARE:
                out["lorem_ipsum"] = 1.0
        filler = any(m in lowered for m in _FILLER_MARKERS) and len(_TEMPLATE_FILLER.findall(text))
        if filler:
            sentences = max(1, len(_SENTENCES.findall(text.rstrip())) + 1)
            if filler / sentences >= FILLER_SHARE:
                out["template_filler"] = 1.0
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
