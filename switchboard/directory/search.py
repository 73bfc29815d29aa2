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

**Speed.** Candidates come from postings, not from scanning people: exact words by dict,
prefixes by bisecting the sorted vocabulary, typos by symmetric deletion neighbourhoods
(the "SymSpell" idea) verified with a bounded edit distance. 2,800 people answer in well
under 5 ms (tests/unit/test_search.py measures it).
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum

from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberError, NumberPlan

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
    text = text.casefold().translate(_NORDIC)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of ``text``: runs of letters and digits."""
    out: list[str] = []
    current: list[str] = []
    for c in fold(text):
        if c.isalnum():
            current.append(c)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


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


def number_forms(number: str, plan: NumberPlan) -> set[str]:
    """The dialled forms of one number as digit strings: E.164 digits, national, extension."""
    try:
        e164 = plan.to_e164(number)
    except NumberError:
        return set()
    forms = {e164.lstrip("+")}
    nsn = e164[1 + len(plan.country_code) :] if e164.startswith("+" + plan.country_code) else ""
    if nsn:
        forms.add(plan.trunk_prefix + nsn)
        forms.add(nsn)
    extension = plan.extension_of(e164)
    if extension:
        forms.add(extension)
    return forms


def _person_words(person: Person, plan: NumberPlan) -> Iterator[tuple[str, Field]]:
    for w in words(person.name):
        yield w, Field.NAME
    for w in words(person.unit):
        yield w, Field.UNIT
    for w in words(person.title):
        yield w, Field.TITLE
    if person.email:
        email = fold(person.email)
        yield email, Field.EMAIL
        for w in words(email):
            yield w, Field.EMAIL
    if person.extension:
        yield person.extension, Field.NUMBER
        office = plan.e164_of_extension(person.extension)
        if office:
            for form in number_forms(office, plan):
                yield form, Field.NUMBER
    # R18: only the public mobile; a secret one never enters the index.
    if person.public_mobile:
        for form in number_forms(person.public_mobile, plan):
            yield form, Field.NUMBER


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


class SearchIndex:
    """An immutable index over one set of people; rebuild it when the directory changes."""

    def __init__(self, people: Iterable[Person], plan: NumberPlan) -> None:
        self._people: list[Person] = sorted(people, key=lambda p: (fold(p.name), p.person_id))
        postings: dict[str, dict[int, Field]] = {}
        for index, person in enumerate(self._people):
            for word, field in _person_words(person, plan):
                entry = postings.setdefault(word, {})
                if entry.get(index, 0) < field:
                    entry[index] = field
        self._postings = postings
        self._vocabulary = sorted(postings)
        deletions: dict[str, set[str]] = {}
        for word in self._vocabulary:
            if word.isdigit() or len(word) < 3:
                continue
            depth = 2 if len(word) >= 6 else 1
            for variant in _deletions(word, depth):
                deletions.setdefault(variant, set()).add(word)
        self._deletions = deletions

    def __len__(self) -> int:
        return len(self._people)

    def _prefixed(self, word: str) -> Iterator[str]:
        start = bisect.bisect_left(self._vocabulary, word)
        for candidate in self._vocabulary[start:]:
            if not candidate.startswith(word):
                return
            yield candidate

    def _typos(self, word: str) -> Iterator[str]:
        budget = typo_budget(word)
        if budget == 0:
            return
        candidates: set[str] = set()
        for variant in _deletions(word, budget):
            candidates |= self._deletions.get(variant, set())
        for candidate in candidates:
            if candidate != word and edit_distance(word, candidate, budget) <= budget:
                yield candidate

    def _word_scores(self, word: str) -> dict[int, int]:
        """person index -> the best score of one query word against that person."""
        best: dict[int, int] = {}

        def add(token: str, quality: Quality) -> None:
            for index, field in self._postings[token].items():
                score = quality * 10 + field
                if best.get(index, 0) < score:
                    best[index] = score

        if word in self._postings:
            add(word, Quality.EXACT)
        for token in self._prefixed(word):
            if token != word:
                add(token, Quality.PREFIX)
        for token in self._typos(word):
            add(token, Quality.TYPO)
        return best

    def search(self, query: str, limit: int = DEFAULT_LIMIT) -> list[Match]:
        """People matching every word of ``query``, best first; nobody for an empty query."""
        wanted = query_words(query)
        if not wanted:
            return []
        totals: dict[int, int] | None = None
        for word in wanted:
            scores = self._word_scores(word)
            if totals is None:
                totals = scores
            else:
                totals = {i: totals[i] + s for i, s in scores.items() if i in totals}
            if not totals:
                return []
        if totals is None:
            return []
        ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        return [Match(self._people[i], score) for i, score in ranked[: max(0, limit)]]
