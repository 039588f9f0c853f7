"""The spelling vocabulary (pure, symspellpy) and the ``Speller`` that keeps one per collection current."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from catalog_search.retrieve.spelling import Speller, Vocabulary, english_words, words

TITLES = ["Toilet Seat with Slow Close", "DeWalt 20V Cordless Drill", "Wireless Doorbell Kit", "Digital Thermostat",
          "Ceiling Fan with Light", "Toilet Flapper", "Galvanized 2x4 Bracket", "Kohler Toilet Tank Lid"]


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.from_texts(TITLES, known=english_words())


def test_words_are_lower_cased_letters_only_without_cjk() -> None:
    assert words("DeWalt 20V Cordless-Drill, 2x4 ½ 无线耳机 Café") == ["dewalt", "cordless", "drill", "café"]


@pytest.mark.parametrize(("typed", "fixed"), [
    ("toliet seat", "toilet seat"), ("cordles drill", "cordless drill"), ("wirless doorbell", "wireless doorbell"),
    ("digital thermastatt", "digital thermostat"),          # 11 letters: two edits allowed
    ("Celing fan", "ceiling fan"), ("dewlat cordless", "dewalt cordless"),
    ("toliet-seat, slow", "toilet-seat, slow"),              # separators and the other words stay as typed
])
def test_misspelled_terms_become_catalog_terms(vocab: Vocabulary, typed: str, fixed: str) -> None:
    correction = vocab.correct(typed)
    assert correction.text == fixed and correction.corrected


@pytest.mark.parametrize("query", [
    "toilet seat",                # catalog terms
    "cheap toilet",               # a common English word is never turned into a catalog term
    "2x4 braket 20v",             # digits stay; "braket" is 6 letters, one edit: "bracket" is one insertion away
    "lid kit",                    # shorter than min_length
    "zzzzzz",                     # nothing near
    "无线耳机",                   # CJK is never corrected
])
def test_what_stays_as_typed(vocab: Vocabulary, query: str) -> None:
    result = vocab.correct(query)
    if query.startswith("2x4"):
        assert result.text == "2x4 bracket 20v" and result.changed == (("braket", "bracket"),)
    else:
        assert result.text == query and not result.corrected


def test_short_terms_get_one_edit_long_terms_max_edit() -> None:
    v = Vocabulary.from_texts(["seat thermostat"], max_edit=2)
    assert v.correct("sxxt").text == "sxxt"                      # 4 letters, 2 edits away: no
    assert v.correct("seet").text == "seat"
    assert v.correct("thxrmostxt").text == "thermostat"          # 10 letters, 2 edits
    assert Vocabulary.from_texts(["thermostat"], max_edit=1).correct("thxrmostxt").text == "thxrmostxt"


def test_the_most_frequent_of_equally_near_terms_wins() -> None:
    v = Vocabulary.from_texts(["paint"] * 5 + ["pains", "pain"], known=frozenset())
    assert v.correct("paind").text == "paint"
    assert v.counts["paint"] == 5


class Texts:
    """A catalog per collection; ``gate`` holds a build until released."""

    def __init__(self) -> None:
        self.by_collection = {"v1": ["Cordless Drill"], "v2": ["Cordless Drill", "Wireless Doorbell"]}
        self.gate = threading.Event()
        self.gate.set()
        self.reads = 0

    def iter_texts(self, collection: str, *, page_rows: int = 2000) -> Iterator[list[str]]:
        self.reads += 1
        self.gate.wait(5)
        yield list(self.by_collection[collection])


def _until(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_the_speller_never_waits_and_rebuilds_when_stale_or_when_the_collection_changes() -> None:
    texts, now = Texts(), [0.0]
    speller = Speller(texts, refresh_s=60, known=frozenset(), clock=lambda: now[0])
    texts.gate.clear()
    started = time.perf_counter()
    assert speller.vocabulary("v1") is None                     # nothing built yet: the caller goes on uncorrected
    assert time.perf_counter() - started < 0.5
    texts.gate.set()
    _until(lambda: speller.vocabulary("v1") is not None)
    assert speller.vocabulary("v1").correct("cordles").text == "cordless"
    assert speller.vocabulary("v1").correct("wirless").text == "wirless"      # not in v1's catalog
    assert texts.reads == 1
    texts.by_collection["v1"].append("Wireless Doorbell")        # ingested meanwhile
    now[0] = 61.0                                                # stale: the old one answers while a new one builds
    assert speller.vocabulary("v1") is not None
    _until(lambda: speller.vocabulary("v1").correct("wirless").text == "wireless")
    assert texts.reads == 2
    assert speller.vocabulary("v2") is None                      # the alias moved: v1's terms are not v2's
    _until(lambda: speller.vocabulary("v2") is not None)
    assert texts.reads == 3


def test_a_failed_build_is_retried_later_not_on_every_search() -> None:
    class Broken:
        reads = 0

        def iter_texts(self, collection: str, *, page_rows: int = 2000) -> Iterator[list[str]]:
            Broken.reads += 1
            raise RuntimeError("milvus down")
            yield []

    now = [0.0]
    speller = Speller(Broken(), refresh_s=60, known=frozenset(), clock=lambda: now[0])
    assert speller.vocabulary("v1") is None
    _until(lambda: speller._building is None and Broken.reads == 1)
    for _ in range(10):
        assert speller.vocabulary("v1") is None
    time.sleep(0.05)
    assert Broken.reads == 1
    now[0] = 31.0
    speller.vocabulary("v1")
    _until(lambda: Broken.reads == 2)
