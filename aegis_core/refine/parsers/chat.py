"""Chat messages -> conversations: who is the human, and which messages belong together.

Used by the chat-export parsers (Discord today); the rules hold for any chat.

Sides. The author of a conversation's first message is the human (`user`); everyone who
answers in it is the assistant. Consecutive messages of one side merge into one turn.

Joining. A message joins an open conversation of its channel by, in this order:
1. reply reference to a message of that conversation. Exception: someone with an open
   conversation of their own replying for the first time to one opened by a statement;
   that statement may have been an answer to them we could not place, so the conversation
   is dropped as doubtful and the reply placed by the rules below.
2. topical continuity with the conversation's open exchange (the content words of its last
   three turns). Content words: lower-cased letter/digit tokens of 2+ characters, neither
   stop words nor acknowledgements, crudely suffix-stripped ("lights" -> "light"), from a
   message's first 32 tokens (its opening says what it is about; cheaper). A
   newcomer to the conversation needs 2 shared words and an overlap coefficient
   |M & E| / min(|M|, |E|) >= 0.2 (1 shared word while the opener's last turn is an open
   question, with "?"), and never joins with a question (that is theirs, not an answer).
   Someone who answered in it needs 2 shared words; its opener 1. Preference: a
   conversation the author opened, then one they answered in, then the rest; within
   that, the highest overlap (an open question's counting 0.05 more: only an edge, so a
   clearly better match to a question asked without "?" still wins), then the most
   recent.
3. author continuity: the channel's previous kept message is the same author's, at most
   `burst` (2 min) earlier, and they opened that conversation or share a word with it.
Otherwise a question, or a statement unrelated to every open conversation, opens a new
conversation. A statement sharing words with one it could not join, or posted within
`burst` of another person's open question, is most likely an answer we cannot place:
opening a conversation would make its author the human, so it is dropped (`unplaced`).
Time alone never joins two messages: it closes conversations (`gap`, 30 min) and bounds
rule 3 and the `unplaced` test. So a third person posting something unrelated after "Thanks,
that worked!" starts their own conversation instead of becoming the answer.

Known limit: an answer that neither replies nor shares a word with its question, posted
more than `burst` after it, opens a conversation of its own, and answers to it are cast
as such (in the generated-channel check where 1 answer in 9 shares no word: 1-2 % of
rows).

Low information. A message without a content word (punctuation, emoji or custom emoji
only, links only, "lol", "ok thanks", "+1", "Thanks, that worked!") is dropped before it
can join or open anything. Leading mentions ("@User_0a5983 try this") are stripped.

Kept: a conversation with a real question and answer, a user turn followed by an assistant
turn; a trailing unanswered user turn is dropped. A conversation reaching `MAX_TURNS` turns
is written out and continues as a new row with the same sides; a turn past
`MAX_TURN_CHARS` takes no more messages (memory stays bounded on endless channels).
"""

from __future__ import annotations

import re
import string
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta

from aegis_core.refine.records import Sample

OVERLAP = 0.2  # for a newcomer to the conversation
SHARED_NEWCOMER, SHARED_ANSWERER, SHARED_OPENER = 2, 2, 1
SHARED_ANSWERING = 1  # a newcomer's statement after the opener's open question
OPEN_QUESTION_EDGE = 0.05  # ... which also counts this much more in the overlap ranking
WINDOW_TURNS = 3
MAX_TURNS = 32
MAX_TURN_CHARS = 20_000  # later messages of one side's run are dropped (bounded memory)
TOPIC_TOKENS = 32  # a message's content words come from its first 32 tokens
MAX_OPEN = 64  # open conversations per channel; the least recently active closes first

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves im ive id dont doesnt didnt cant wont isnt
    arent wasnt its thats theres whats hes shes youre youve ill well also still maybe
    anyone someone something anything everyone guys get got go going know think want need
    like really one way use using tried try trying""".split()  # noqa: SIM905 (a word list)
)
ACKNOWLEDGEMENTS = frozenset(
    """ok okay k kk oki okey alright thanks thank thx ty tysm tyvm np yw welcome yes yeah
    yep yup ya yea no nope nah sure cool nice great awesome perfect good fine amazing
    wow lol lmao lmfao rofl haha hahaha hehe xd omg ah oh ahh ohh hmm hm mhm uh um hi
    hello hey yo sup gm gn morning night bye cya ttyl brb same agreed true exactly right
    worked works working solved fixed done gotcha understood see appreciate appreciated
    much lot bro dude man mate sir please pls plz +1""".split()  # noqa: SIM905
)
_LAUGH = re.compile(r"(?:a?(?:ha|he|hi|ja|ka)+h?|l+o+l+(?:o+l+)*|x+d+|lmf?a+o+|k+)")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*|\+1")
_NOISE = re.compile(r"<a?:\w+:\d+>|:\w+:|https?://\S+|<#\d+>|<@&\d+>", re.IGNORECASE)
_LEADING_MENTIONS = re.compile(r"^(?:\s*@(?:User_[0-9a-f]{6}|everyone|here)\b[\s,:;.!-]*)+")
_REPEATS = re.compile(r"(.)\1{2,}")
_SUFFIXES = ("ings", "ing", "ed", "es", "s", "e", "ly")


def strip_leading_mentions(text: str) -> str:
    return _LEADING_MENTIONS.sub("", text).strip() if "@" in text[:2] else text


def _content_form(word: str) -> str:
    """A token's content word ("" when it carries none): repeats squeezed ("okkkk"),
    laughter and acknowledgements dropped, a crude suffix stripped."""
    if len(word) < 2:
        return ""
    if _REPEATS.search(word):  # "okkkk", "thanksss", "loool"
        word = _REPEATS.sub(r"\1", word)
        if word in _NOT_CONTENT:
            return ""
    if _LAUGH.fullmatch(word):
        return ""
    if len(word) > 4 and not word.endswith("ss"):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
    return word


_NOT_CONTENT = STOP_WORDS | ACKNOWLEDGEMENTS
_NOT_CONTENT_BYTES = frozenset(word.encode() for word in _NOT_CONTENT)
# ASCII tokens as _WORD finds them, in one bytes.translate: lower-cased, apostrophes
# vanish ("don't" -> "dont"), every other punctuation mark splits ("+1" -> "1", too short).
_PUNCTUATION = string.punctuation.replace("'", "")
_ASCII_TOKENS = bytes.maketrans(
    (string.ascii_uppercase + _PUNCTUATION).encode(),
    (string.ascii_lowercase + " " * len(_PUNCTUATION)).encode(),
)
_SEED = dict.fromkeys(_NOT_CONTENT_BYTES, b"")
_FORMS: dict[bytes, bytes] = dict(_SEED)  # token -> content form (b"" for none), a cache


def content_words(text: str) -> set[bytes]:
    """The words (UTF-8) that say what a message is about; none for a low-information
    one."""
    if ":" in text or "<" in text:
        text = _NOISE.sub(" ", text)
    if text.isascii():  # the common case: C-level passes instead of a regex
        tokens = text.encode().translate(_ASCII_TOKENS, b"'").split()
    else:
        tokens = [word.encode() for word in _WORD.findall(text.lower())]
    if len(tokens) > TOPIC_TOKENS:  # the opening says what a message is about
        head = content_words_of(tokens[:TOPIC_TOKENS])
        return head if head else content_words_of(tokens)
    return content_words_of(tokens)


def content_words_of(tokens: list[bytes]) -> set[bytes]:
    forms = set(map(_FORMS.get, tokens))  # one C-level pass when every token is cached
    if None in forms:
        if len(_FORMS) > 200_000:  # bounded: a cache, not a vocabulary
            _FORMS.clear()
            _FORMS.update(_SEED)
        for token in tokens:
            if token not in _FORMS:
                _FORMS[token] = _content_form(token.decode()).encode()
        forms = set(map(_FORMS.__getitem__, tokens))
    forms.discard(b"")
    return forms  # read-only for callers


@dataclass(slots=True)
class ChatMessage:
    id: str
    author: str  # a stable pseudonym
    text: str
    when: float  # POSIX seconds
    reply_to: str | None = None


@dataclass(slots=True)
class _Turn:
    role: str
    texts: list[str]  # its messages, joined when written out
    words: set[bytes]
    asks: bool  # holds a question mark
    chars: int


@dataclass(slots=True)
class _Conversation:
    id: str
    opener: str
    last: float
    turns: list[_Turn] = field(default_factory=list)
    window: set[bytes] = field(default_factory=set)
    people: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    messages: int = 0
    part: int = 1
    doubtful: bool = False


_UNPLACED = _Conversation(id="", opener="", last=0.0)
_NOTHING: list[Sample] = []  # returned when nothing closed (never appended to)


class Threader:
    """Feed a channel's messages in time order; closed conversations come back as samples."""

    def __init__(
        self,
        channel: str,
        stats: dict[str, int],
        *,
        gap: timedelta = timedelta(minutes=30),
        burst: timedelta = timedelta(minutes=2),
    ) -> None:
        self.channel, self.stats = channel, stats
        self.gap, self.burst = gap.total_seconds(), burst.total_seconds()
        self.counts: Counter[str] = Counter()  # added to `stats` by `finish`
        self.open: OrderedDict[str, _Conversation] = OrderedDict()  # least recent first
        self.by_message: dict[str, _Conversation] = {}
        self.previous: tuple[str, float, _Conversation] | None = None
        self.horizon = float("-inf")  # a lower bound of every open conversation's `last`

    def add(self, message: ChatMessage) -> list[Sample]:
        text = message.text
        if text.startswith("@"):
            text = strip_leading_mentions(text)
        words = content_words(text)
        if not words:
            self.counts["dropped_low_information"] += 1
            return _NOTHING
        done = _NOTHING
        # Close what has been quiet too long, oldest first. `horizon` never exceeds the
        # oldest open conversation's last message, so most messages skip the look.
        if message.when - self.horizon > self.gap or len(self.open) >= MAX_OPEN:
            while self.open:
                oldest = next(iter(self.open.values()))
                self.horizon = oldest.last
                if message.when - oldest.last <= self.gap and len(self.open) < MAX_OPEN:
                    break
                done = done + self._close(oldest)
            else:
                self.horizon = message.when
        conv = self._find(message, words)
        if conv is _UNPLACED:
            self.counts["dropped_unplaced"] += 1
            self.previous = None  # someone else spoke: what follows is not a run
            return done
        if conv is None:
            conv = _Conversation(
                id=f"{self.channel}:{message.id}", opener=message.author, last=message.when
            )
            self.open[conv.id] = conv
            self.counts["conversations_opened"] += 1
        else:
            self.open.move_to_end(conv.id)
        role = "user" if message.author == conv.opener else "assistant"
        turns = conv.turns
        if turns and turns[-1].role == role:
            if turns[-1].chars > MAX_TURN_CHARS:  # bounded memory: a turn does not grow on
                self.counts["dropped_overlong_turn"] += 1
                return done
            turns[-1].chars += len(text)
            turns[-1].texts.append(text)
            turns[-1].words |= words
            turns[-1].asks = turns[-1].asks or "?" in text
            conv.window |= words
        else:
            if role == "user" and len(turns) >= MAX_TURNS:
                done = done + self._emit(conv)
                conv.turns = turns = []
                conv.part, conv.messages = conv.part + 1, 0
            turns.append(_Turn(role, [text], set(words), "?" in text, len(text)))
            conv.window = set().union(*(turn.words for turn in turns[-WINDOW_TURNS:]))
        conv.people.add(message.author)
        conv.ids.append(message.id)
        conv.messages += 1
        conv.last = message.when
        self.by_message[message.id] = conv
        self.previous = (message.author, message.when, conv)
        return done

    def _find(self, message: ChatMessage, words: set[bytes]) -> _Conversation | None:
        if message.reply_to is not None:
            conv = self.by_message.get(message.reply_to)
            if conv is not None and self._reply_reveals_misplaced(message, conv):
                conv.doubtful = True
            elif conv is not None:
                self.counts["joined_by_reply"] += 1
                return conv
        asks = "?" in message.text
        best, best_rank = None, (-1, 0.0)
        related = False
        for conv in self.open.values():
            shared = len(words & conv.window)
            if message.author != conv.opener and not related:
                related = shared > 0 or (
                    conv.turns[-1].role == "user"
                    and conv.turns[-1].asks
                    and message.when - conv.last <= self.burst
                )
            bonus = 0.0
            if message.author == conv.opener:
                need, floor, tier = SHARED_OPENER, 0.0, 2
            elif message.author in conv.people:
                need, floor, tier = SHARED_ANSWERER, 0.0, 1
            elif asks:
                continue
            else:
                need, floor, tier = SHARED_NEWCOMER, OVERLAP, 0
                if conv.turns[-1].role == "user" and conv.turns[-1].asks:
                    need, bonus = SHARED_ANSWERING, OPEN_QUESTION_EDGE
            if shared < need:
                continue
            score = shared / min(len(words), len(conv.window))
            if score < floor:
                continue
            rank = (tier, score + bonus)
            if rank >= best_rank:  # ties: the most recent
                best, best_rank = conv, rank
        if best is not None:
            self.counts["joined_by_topic"] += 1
            return best
        if self.previous is not None:
            author, when, conv = self.previous
            if (
                author == message.author
                and message.when - when <= self.burst
                and conv.id in self.open
                and (author == conv.opener or words & conv.window)
            ):
                self.counts["joined_by_author"] += 1
                return conv
        return _UNPLACED if related and not asks else None

    def _reply_reveals_misplaced(self, message: ChatMessage, conv: _Conversation) -> bool:
        """Someone with an open conversation of their own replies, for the first time, to a
        conversation opened by a statement: that statement may well have been an answer to
        them that matched no words. Both readings are guesses, so that one is not kept."""
        return (
            message.author not in conv.people
            and not conv.turns[0].asks
            and any(c.opener == message.author for c in self.open.values() if c is not conv)
        )

    def _emit(self, conv: _Conversation) -> list[Sample]:
        if conv.doubtful:
            self.counts["dropped_doubtful_conversations"] += 1
            return []
        turns = conv.turns
        while turns and turns[-1].role != "assistant":
            turns = turns[:-1]
        if not turns or turns[0].role != "user":
            self.counts["unanswered_conversations"] += 1
            return []
        return [
            Sample(
                id=conv.id if conv.part == 1 else f"{conv.id}#{conv.part}",
                kind="conversation",
                turns=[(turn.role, "\n".join(turn.texts)) for turn in turns],
                meta={"source": self.channel, "messages": conv.messages},
            )
        ]

    def _close(self, conv: _Conversation) -> list[Sample]:
        del self.open[conv.id]
        for mid in conv.ids:
            self.by_message.pop(mid, None)
        if self.previous is not None and self.previous[2] is conv:
            self.previous = None
        return self._emit(conv)

    def finish(self) -> list[Sample]:
        """The conversations still open; the counts go into `stats`."""
        done: list[Sample] = []
        for conv in list(self.open.values()):
            done.extend(self._close(conv))
        for key, value in self.counts.items():
            self.stats[key] = self.stats.get(key, 0) + value
        self.counts.clear()
        return done
