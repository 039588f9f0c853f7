"""Typo tolerance: correct misspelled query terms against the catalog's own vocabulary (symspellpy).

Where the vocabulary lives: in the catalog collection itself. The ingest workers keep titles and brands current in
Milvus; the search service derives its dictionary from them (``CatalogTexts.iter_texts``: every live product's title
and brand behind the alias) when it first needs it, again every ``CATALOG_SPELL_REFRESH_S`` and at once when the alias
points at another collection (a reindex). The rebuild runs on a background thread and replaces the dictionary in one
assignment; searches use whichever dictionary is current and never wait for a rebuild (until the first one is ready
they are not corrected). So any number of search processes see the same vocabulary, a deleted product's terms go at
the next rebuild, and there is no second store to keep consistent with the catalog.

Which terms are corrected (``Vocabulary.correct``): words of letters only (no digits: sizes and model numbers stay),
at least ``min_length`` characters long, that no live product's title or brand contains and that are not common
English words (``known``: symspellpy's English frequency list, so "cheap" or "best" never become catalog terms).
Each becomes the catalog term nearest by Damerau-Levenshtein distance (at most 1 below 8 characters, else
``max_edit``), the most frequent among equally near ones. Only the BM25 side searches the corrected text; the dense
side embeds what the shopper typed (the embedding model copes with typos on its own).
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from symspellpy import SymSpell, Verbosity

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
LONG_TERM = 8                  # terms at least this long may be corrected by up to ``max_edit`` edits
RETRY_AFTER_ERROR_S = 30.0


class CatalogTexts(Protocol):
    """The texts a vocabulary is built from (``MilvusStore.iter_texts``: title and brand of every live product)."""

    def iter_texts(self, collection: str, *, page_rows: int = 2000) -> Iterable[list[str]]: ...


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` that may enter a vocabulary: letters only, no CJK (never corrected)."""
    return [w for w in _WORD.findall(text.lower()) if w.isalpha() and not _CJK.search(w)]


@functools.lru_cache(maxsize=4)
def english_words(min_count: int = 0) -> frozenset[str]:
    """symspellpy's English frequency list (82,765 words): common words that are never corrected."""
    path = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition(" ")
        if word and int(count or 0) >= min_count:
            out.add(word)
    return frozenset(out)


@dataclass(frozen=True)
class Correction:
    text: str                      # the query with its misspelled terms replaced (== the query when none was)
    changed: tuple[tuple[str, str], ...] = ()      # (typed, corrected) per replaced term

    @property
    def corrected(self) -> bool:
        return bool(self.changed)


class Vocabulary:
    """A SymSpell dictionary of catalog terms with their counts (how many texts contain each)."""

    def __init__(self, counts: Counter[str], *, max_edit: int = 2, min_length: int = 4,
                 known: frozenset[str] = frozenset()) -> None:
        if max_edit < 1 or min_length < 1:
            raise ValueError("max_edit and min_length must be >= 1")
        self.max_edit = max_edit
        self.min_length = min_length
        self.known = known
        self.counts = counts
        self._sym = SymSpell(max_dictionary_edit_distance=max_edit, prefix_length=7)
        for term, count in counts.items():
            if len(term) >= max(2, min_length - max_edit):
                self._sym.create_dictionary_entry(term, count)

    @classmethod
    def from_texts(cls, texts: Iterable[str], **kw: object) -> "Vocabulary":
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(set(words(text)))
        return cls(counts, **kw)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.counts)

    def correct_term(self, term: str) -> str | None:
        """The catalog term ``term`` should be, or None when it stays as typed."""
        low = term.lower()
        if len(low) < self.min_length or not low.isalpha() or _CJK.search(low):
            return None
        if low in self.counts or low in self.known:
            return None
        distance = self.max_edit if len(low) >= LONG_TERM else 1
        found = self._sym.lookup(low, Verbosity.CLOSEST, max_edit_distance=distance)
        return found[0].term if found and found[0].term != low else None

    def correct(self, query: str) -> Correction:
        changed: list[tuple[str, str]] = []

        def fix(match: re.Match[str]) -> str:
            term = match.group(0)
            better = self.correct_term(term)
            if better is None:
                return term
            changed.append((term, better))
            return better

        text = _WORD.sub(fix, query)
        return Correction(text, tuple(changed))


class Speller:
    """The current ``Vocabulary`` of each collection, rebuilt in the background (see the module docstring).

    ``vocabulary(collection)`` never blocks; ``build(collection)`` builds and installs one now (the evaluation and
    tests use it to start from a known state).
    """

    def __init__(self, texts: CatalogTexts, *, refresh_s: float = 300.0, max_edit: int = 2, min_length: int = 4,
                 known: frozenset[str] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.texts = texts
        self.refresh_s = refresh_s
        self.max_edit = max_edit
        self.min_length = min_length
        self.known = english_words() if known is None else known
        self.clock = clock
        self._current: tuple[str, Vocabulary, float] | None = None     # (collection, vocabulary, built at)
        self._building: str | None = None
        self._failed_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._closed = False

    def vocabulary(self, collection: str) -> Vocabulary | None:
        """The vocabulary of ``collection`` if one is built; starts a rebuild when it is missing or stale."""
        now = self.clock()
        with self._lock:
            current = self._current
            fresh = current is not None and current[0] == collection and now - current[2] < self.refresh_s
            failed = now - self._failed_at.get(collection, -RETRY_AFTER_ERROR_S) < RETRY_AFTER_ERROR_S
            start = not fresh and not failed and self._building is None and not self._closed
            if start:
                self._building = collection
        if start:
            threading.Thread(target=self._build_in_background, args=(collection,), name="spell-vocabulary",
                             daemon=True).start()
        if current is not None and current[0] == collection:
            return current[1]
        return None

    def build(self, collection: str) -> Vocabulary:
        started = time.perf_counter()
        texts = (text for page in self.texts.iter_texts(collection) for text in page)
        vocabulary = Vocabulary.from_texts(texts, max_edit=self.max_edit, min_length=self.min_length,
                                           known=self.known)
        with self._lock:
            self._current = (collection, vocabulary, self.clock())
        log.info("spelling vocabulary of %s: %d terms in %.1fs", collection, len(vocabulary),
                 time.perf_counter() - started)
        return vocabulary

    def _build_in_background(self, collection: str) -> None:
        try:
            self.build(collection)
        except Exception as exc:  # noqa: BLE001 - a failed rebuild keeps the old vocabulary; searches go on
            log.warning("spelling vocabulary of %s not rebuilt (retry in %.0fs): %s", collection,
                        RETRY_AFTER_ERROR_S, exc)
            with self._lock:
                self._failed_at[collection] = self.clock()
        finally:
            with self._lock:
                self._building = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
