"""Directory search for the receptionist screen: instant, forgiving, and never a leak (R17, R18).

Pure: people in, ranked matches out; no I/O, standard library only.

**What is searched.** A person's name, unit, title and e-mail, and every dialled form of the
numbers a receptionist may see (R3, R17): the extension, the national number and E.164
(with and without "+"), for the office number and for a public mobile. A *secret* mobile is
never indexed (R18): if typing a secret number found its owner, the search would confirm
whose number it is.

**Folding.** Text is case-folded; Nordic letters fold to the plain letters people type on a
foreign keyboard: å→a, ä→a, ö→o, ø→o, æ→ae (and ß→ss); accents are dropped (é→e, ü→u).
We fold å to ``a``, not to the old spelling ``aa``: "Åsa" is typed "Asa" far more often
than "Aasa", and a query "aasa" is still one deletion from "asa", which typo tolerance
forgives for words of four letters or more.

**Matching.** Every query word must match some word of the person. A word matches
*exactly*, as a *prefix* ("ann" finds "Anna"), or — for letters only, never digits — with a
*typo*: a Damerau-Levenshtein distance (optimal string alignment) of at most 1 for words of
3+ characters and at most 2 for 8+. Numbers match exactly or by prefix, never by typo:
"nearly your number" is not an answer a switchboard should give.

**Ranking.** Exact beats prefix beats typo; within one quality a name beats a number, which
beats the unit, the title and the e-mail. Ties sort by name.

**Speed and size at region scale** (100,000 people, issue 15). Candidates come from
postings, not from scanning people, and every structure is a few flat arrays rather than
a Python object per entry (a dict of sets per deletion variant took 3.4 GB at 100,000
people):
- Words: the sorted vocabulary of distinct words, each with a slice of one flat array of
  postings (person index and field packed in one int). Exact words and prefixes are found
  by bisecting the vocabulary.
- Numbers: only the national significant number and the extension are kept, as integers
  grouped by length; a dialled query is tried as it is, without the trunk prefix and
  without the country code, and as a local number after a series' area code, so every
  dialled form (E.164 with or without "+", national, the number without its prefix, the
  local number, the extension) still finds it. Prefixes are integer
  ranges.
- Typos: the symmetric deletion neighbourhoods (the "SymSpell" idea) of the distinct
  letter words only, stored as one sorted array of packed (hash of the variant, word)
  pairs; candidates are verified with the bounded edit distance, so a hash collision costs
  a check, never a wrong answer.
The index is immutable and built off the event loop (``http.context.SearchCache`` builds it
in a thread and swaps it in); bench/search_region.py measures it at 100,000 people.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import re
import threading
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberPlan

_NORDIC = str.maketrans({"å": "a", "ä": "a", "ö": "o", "ø": "o", "æ": "ae", "ß": "ss"})
_NUMBER_CHARS = frozenset("0123456789+ -()./")
DEFAULT_LIMIT = 50


class Field(IntEnum):
    """Where a word was found; a higher value ranks first at the same match quality."""

    EMAIL = 1
    TITLE = 2
    UNIT = 3
    NUMBER = 4
    NAME = 5


class Quality(IntEnum):
    TYPO = 1
    PREFIX = 2
    EXACT = 3


def fold(text: str) -> str:
    """Case-fold, fold Nordic letters and drop accents (module docstring: å→a, not aa)."""
    if text.isascii():
        return text.lower()  # what casefold does to ASCII, at a fraction of the cost
    text = text.casefold().translate(_NORDIC)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_WORD = re.compile(r"[^\W_]+")
"""Runs of letters and digits (``str.isalnum``'s characters, in one regular expression)."""


def words(text: str) -> list[str]:
    """The folded words of ``text``: runs of letters and digits."""
    return _WORD.findall(fold(text))


def typo_budget(word: str) -> int:
    """How many edits a query word may carry: 0 below 3 characters, 1 from 3, 2 from 8.

    Three-letter words get one edit so a short first name typed as it sounds ("Ana" for
    Anna, "Eva" for Ewa) still finds the person; the ranking keeps exact and prefix
    matches above such guesses."""
    if word.isdigit() or len(word) < 3:
        return 0
    return 2 if len(word) >= 8 else 1


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment), or ``limit + 1`` if above.

    Adjacent transpositions count as one edit ("Nilsosn" → "Nilsson"), as people mistype.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        row_min = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            row_min = min(row_min, value)
        if row_min > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[len(b)], limit + 1)


def _deletions(word: str, depth: int) -> set[str]:
    """Every string reached by deleting up to ``depth`` characters from ``word``."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


_HASH_BITS = 39
_WORD_BITS = 24
_HASH_MASK = (1 << _HASH_BITS) - 1
_BUCKET_BITS = 8
_WORD_MASK = (1 << _WORD_BITS) - 1
_FIELD_BITS = 3


def _variant_key(variant: str) -> int:
    """The high bits of a packed (variant, word) pair: the variant's hash, shifted."""
    return (hash(variant) & _HASH_MASK) << _WORD_BITS


def _significant(e164: str, plan: NumberPlan) -> str:
    """The digits an E.164 number is indexed by: without the country code when it is ours
    (the national significant number), else all of them."""
    own = "+" + plan.country_code
    return e164[len(own) :] if e164.startswith(own) else e164.lstrip("+")


def _text_words(
    person: Person, read: Callable[[str], list[str]] = words
) -> Iterator[tuple[str, Field]]:
    for w in read(person.name):
        yield w, Field.NAME
    for w in read(person.unit):
        yield w, Field.UNIT
    for w in read(person.title):
        yield w, Field.TITLE
    if person.email:
        for w in words(person.email):
            yield w, Field.EMAIL


def _numbers(person: Person, plan: NumberPlan) -> Iterator[str]:
    """The digit strings a person is found by: extension, office and public mobile (NSN)."""
    if person.extension:
        yield person.extension
        office = plan.e164_of_extension(person.extension)
        if office:
            yield _significant(office, plan)
    # R18: only the public mobile (E.164, as the directory keeps it); a secret one never
    # enters the index.
    if person.public_mobile:
        yield _significant(person.public_mobile, plan)


LOCAL_MIN = 3
"""Digits from which a query is also read as a local number (without area code): fewer
would be the start of nearly every series' numbers."""


def number_queries(digits: str, plan: NumberPlan) -> list[str]:
    """The forms a dialled query is looked up in: as typed, without the trunk prefix or the
    country code it starts with (the index keeps national significant numbers), and as a
    local number after a series' area code ("664124", issue 16), computed from the plan,
    so the index keeps no more numbers than before."""
    forms = [digits]
    for prefix in (plan.trunk_prefix, plan.country_code):
        if prefix and digits.startswith(prefix) and len(digits) > len(prefix):
            forms.append(digits[len(prefix) :])
    if len(digits) >= LOCAL_MIN and not digits.startswith(plan.trunk_prefix or "\0"):
        forms.extend(f for f in plan.local_forms(digits) if f not in forms)
    return forms


def query_words(query: str) -> list[str]:
    """A query's words; a query that is one telephone number becomes its digits.

    "+46 523-66 41 23" is one number, not four words: its digits are joined (a leading "+"
    dropped) so it matches the indexed forms.
    """
    stripped = query.strip()
    if stripped and set(stripped) <= _NUMBER_CHARS and any(c.isdigit() for c in stripped):
        return ["".join(c for c in stripped if c.isdigit())]
    seen: list[str] = []
    for w in words(query):
        if w not in seen:
            seen.append(w)
    return seen


@dataclass(frozen=True, slots=True)
class Match:
    person: Person
    score: int
    """Higher is better; comparable within one query only."""


T = TypeVar("T", int, str)
_CHUNK = 8192


def _sorted_gently(values: list[T]) -> list[T]:
    """``sorted(values)`` in a worker thread without starving the event loop: one big sort
    holds the interpreter lock for its whole run (150 ms for 500,000 ints), so sort chunks
    and merge them in Python, where the lock changes hands every few milliseconds."""
    if len(values) <= _CHUNK:
        return sorted(values)
    chunks = [sorted(values[i : i + _CHUNK]) for i in range(0, len(values), _CHUNK)]
    return list(heapq.merge(*chunks))


_PERSON_BITS = 20
"""Person indexes packed beside a number (a million people per index at most)."""


class _NumberGroup:
    """The indexed numbers of one length: sorted values and, beside them, whose."""

    __slots__ = ("length", "people", "values")

    def __init__(self, length: int, packed: list[int]) -> None:
        """``packed``: ``value << _PERSON_BITS | person index`` for each number."""
        packed = _sorted_gently(packed)
        mask = (1 << _PERSON_BITS) - 1
        self.length = length
        self.values = array("q", (v >> _PERSON_BITS for v in packed))
        self.people = array("i", (v & mask for v in packed))

    def between(self, low: int, high: int) -> Iterator[tuple[int, int]]:
        """(value, person index) of every number in ``[low, high)``."""
        values = self.values
        start = bisect.bisect_left(values, low)
        end = bisect.bisect_left(values, high, start)
        for i in range(start, end):
            yield values[i], self.people[i]


class SearchIndex:
    """An immutable index over one set of people; rebuild it when the directory changes.
    Safe to search from several threads at once."""

    def __init__(self, people: Iterable[Person], plan: NumberPlan) -> None:
        self._plan = plan
        self._readers = 0
        """Searches running (in worker threads: ``http.search_cache``)."""
        self._readers_changed = threading.Condition()
        everyone = list(people)
        # Sort keys as strings, not tuples: a hundred thousand tuples set the cyclic
        # garbage collector off on a full pass, and it runs holding the interpreter lock.
        order = _sorted_gently(
            [f"{fold(p.name)}\0{p.person_id}\0{i}" for i, p in enumerate(everyone)]
        )
        self._people: list[Person] = [everyone[int(key.rpartition("\0")[2])] for key in order]
        del everyone, order
        # Postings as arrays of C ints while building, not lists of Python ints: a million
        # of those would stay in the process's memory long after the build.
        postings: dict[str, array[int]] = {}
        numbers: dict[int, list[int]] = {}
        # Units, titles and names repeat across thousands of people: each distinct text is
        # folded and split once (e-mail addresses are all different: not kept).
        read: Callable[[str], list[str]] = functools.lru_cache(maxsize=16_384)(words)
        for index, person in enumerate(self._people):
            for word, field in _text_words(person, read):
                found = postings.get(word)
                if found is None:
                    found = postings[word] = array("i")
                found.append((index << _FIELD_BITS) | field)
            for digits in set(_numbers(person, plan)):
                numbers.setdefault(len(digits), []).append(int(digits) << _PERSON_BITS | index)
        self._by_initial: dict[str, array[int]] = {}
        """Letter -> the people (in name order) with a name word beginning with it."""
        for index, person in enumerate(self._people):
            for letter in {w[0] for w in read(person.name)}:
                found = self._by_initial.get(letter)
                if found is None:
                    found = self._by_initial[letter] = array("i")
                found.append(index)
        self._vocabulary: list[str] = sorted(postings)
        self._offsets = array("i", [0])
        self._postings = array("i")
        for word in self._vocabulary:
            self._postings.extend(postings[word])
            self._offsets.append(len(self._postings))
        del postings
        self._numbers = [_NumberGroup(n, packed) for n, packed in sorted(numbers.items())]
        del numbers
        # Bucketed by their top bits and each bucket sorted alone: the buckets in order are
        # the whole array in order, and no single sort holds the interpreter lock for long.
        buckets = [array("q") for _ in range(1 << _BUCKET_BITS)]
        shift = _HASH_BITS + _WORD_BITS - _BUCKET_BITS
        for position, word in enumerate(self._vocabulary):
            if len(word) < 3 or not word.isalpha():
                continue  # digits never get a typo; nor do words too short to have one
            depth = 2 if len(word) >= 6 else 1
            for variant in _deletions(word, depth):
                key = _variant_key(variant) | position
                buckets[key >> shift].append(key)
        self._typo_keys = array("q")
        for bucket in buckets:
            self._typo_keys.extend(sorted(bucket))
        del buckets

    def __len__(self) -> int:
        return len(self._people)

    def _position(self, word: str) -> int | None:
        i = bisect.bisect_left(self._vocabulary, word)
        if i < len(self._vocabulary) and self._vocabulary[i] == word:
            return i
        return None

    def _prefixed(self, word: str) -> Iterator[int]:
        vocabulary = self._vocabulary
        for i in range(bisect.bisect_left(vocabulary, word), len(vocabulary)):
            if not vocabulary[i].startswith(word):
                return
            yield i

    def _typos(self, word: str) -> Iterator[int]:
        budget = typo_budget(word)
        if budget == 0:
            return
        keys = self._typo_keys
        candidates: set[int] = set()
        for variant in _deletions(word, budget):
            low = _variant_key(variant)
            start = bisect.bisect_left(keys, low)
            end = bisect.bisect_left(keys, low + _WORD_MASK + 1, start)
            candidates.update(keys[i] & _WORD_MASK for i in range(start, end))
        vocabulary = self._vocabulary
        for position in candidates:
            candidate = vocabulary[position]
            if candidate != word and edit_distance(word, candidate, budget) <= budget:
                yield position

    def _word_scores(self, word: str) -> dict[int, int]:
        """person index -> the best score of one query word against that person."""
        best: dict[int, int] = {}
        postings, offsets = self._postings, self._offsets

        def add(position: int, quality: Quality) -> None:
            base = quality * 10
            for i in range(offsets[position], offsets[position + 1]):
                code = postings[i]
                index = code >> _FIELD_BITS
                score = base + (code & 7)
                if best.get(index, 0) < score:
                    best[index] = score

        exact = self._position(word)
        if exact is not None:
            add(exact, Quality.EXACT)
        for position in self._prefixed(word):
            if position != exact:
                add(position, Quality.PREFIX)
        if word.isdigit():
            self._number_scores(word, best)
        else:
            for position in self._typos(word):
                add(position, Quality.TYPO)
        return best

    def _number_scores(self, digits: str, best: dict[int, int]) -> None:
        for form in number_queries(digits, self._plan):
            value = int(form)
            for group in self._numbers:
                extra = group.length - len(form)
                if extra < 0:
                    continue
                scale = 10**extra
                for _, index in group.between(value * scale, (value + 1) * scale):
                    quality = Quality.EXACT if extra == 0 else Quality.PREFIX
                    score = quality * 10 + Field.NUMBER
                    if best.get(index, 0) < score:
                        best[index] = score

    def retire(self) -> None:
        """Let go of its people one by one, in the caller's thread (a worker's): after an
        import this index holds the only references to the 100,000 people it replaced,
        and freeing them in one call held the interpreter lock 25-35 ms, where a loop in
        Python hands the lock over every few. The index answers nobody after."""
        with self._readers_changed:  # searches in other threads finish first
            self._readers_changed.wait_for(lambda: self._readers == 0)
            people = self._people
            self._people = []
        while people:
            people.pop()

    def search(self, query: str, limit: int = DEFAULT_LIMIT) -> list[Match]:
        """``_search``, counted: any number of threads may search at once, and ``retire``
        waits until they are done."""
        with self._readers_changed:
            self._readers += 1
        try:
            return self._search(query, limit)
        finally:
            with self._readers_changed:
                self._readers -= 1
                if self._readers == 0:
                    self._readers_changed.notify_all()

    def _search(self, query: str, limit: int = DEFAULT_LIMIT) -> list[Match]:
        """People matching every word of ``query``, best first; nobody for an empty query.

        A word of one letter would be a prefix of a tenth of the vocabulary: alone, it
        lists the people with a name word beginning with it, alphabetically (a phone
        book's answer to a first keystroke); beside longer words it keeps those of their
        matches that have any word beginning with it. Longer words are looked up first for
        that reason.
        """
        if not self._people:
            return []  # retired, or made of nobody
        wanted = sorted(query_words(query), key=len, reverse=True)
        if not wanted or limit < 1:
            return []
        totals: dict[int, int] | None = None
        for word in wanted:
            if len(word) == 1 and not word.isdigit():
                totals = (
                    self._initials(word, SHORT_CANDIDATES)
                    if totals is None
                    else self._with_initial(totals, word)
                )
            else:
                scores = self._word_scores(word)
                totals = (
                    scores
                    if totals is None
                    else {i: totals[i] + s for i, s in scores.items() if i in totals}
                )
            if not totals:
                return []
        if totals is None:
            return []
        ranked = heapq.nsmallest(limit, totals.items(), key=_best_first)
        return [Match(self._people[i], score) for i, score in ranked]

    def _initials(self, letter: str, count: int) -> dict[int, int]:
        """The first ``count`` people (alphabetically) with a name word beginning with
        ``letter``."""
        score = Quality.PREFIX * 10 + Field.NAME
        return dict.fromkeys(self._by_initial.get(letter, array("i"))[:count], score)

    def _with_initial(self, totals: dict[int, int], letter: str) -> dict[int, int]:
        """Those of ``totals`` with a word beginning with ``letter``, scored for it."""
        if len(totals) > SHORT_CANDIDATES:
            totals = dict(heapq.nsmallest(SHORT_CANDIDATES, totals.items(), key=_best_first))
        kept: dict[int, int] = {}
        for i, total in totals.items():
            best = 0
            for word, field in _text_words(self._people[i]):
                if word.startswith(letter):
                    quality = Quality.EXACT if word == letter else Quality.PREFIX
                    best = max(best, quality * 10 + field)
            if best:
                kept[i] = total + best
        return kept


SHORT_CANDIDATES = 1_000
"""People a one-letter word is checked against (module docstring of ``search``)."""


def _best_first(item: tuple[int, int]) -> tuple[int, int]:
    index, score = item
    return (-score, index)
