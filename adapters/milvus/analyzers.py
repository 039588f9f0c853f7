"""BM25 analyzers: how ``embed_text`` is cut into terms, for the documents and (by Milvus, the same way) the query.

One analyzer per collection, chosen by ``CATALOG_BM25_ANALYZER`` when the collection is created:

* ``english`` (default): the standard tokenizer (Unicode word boundaries), lowercase, English stop words, English
  Snowball stemmer. Best on English catalogs: on the Home Depot dev split BM25 nDCG@10 is 0.3788 against 0.3684 for
  ``multilingual`` with the same k1/b (docs/relevance.md). Chinese/Japanese text is NOT segmented: a run of CJK
  characters stays one term, so only whole-run matches score (the dense side still finds such products).
* ``multilingual``: jieba segments Chinese and keeps English words whole; ``cnalphanumonly`` drops the whitespace and
  punctuation tokens jieba emits (without it every query containing a space matched every document); then lowercase,
  English stop words and stemmer. Use it for catalogs with Chinese or Japanese text (the demo's sample catalog).

Milvus' per-row multi-language analyzer would pick by locale, but Milvus Lite 2.5.1 (the embedded default) ignores its
locale alias table and the query-side ``analyzer_name`` (verified), so one analyzer per collection it is. Changing it
means a new collection: ``catalog-search reindex`` copies the vectors (same model) and BM25 re-analyses the text.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Literal

AnalyzerName = Literal["english", "multilingual"]

_STOP_AND_STEM: list[Any] = [{"type": "stop", "stop_words": ["_english_"]}, {"type": "stemmer", "language": "english"}]

ANALYZERS: dict[str, dict[str, Any]] = {
    "english": {"tokenizer": "standard", "filter": ["lowercase", *_STOP_AND_STEM]},
    "multilingual": {"tokenizer": "jieba", "filter": ["lowercase", "cnalphanumonly", *_STOP_AND_STEM]},
}
DEFAULT_ANALYZER: AnalyzerName = "english"


def analyzer_params(name: str) -> dict[str, Any]:
    """The Milvus ``analyzer_params`` of a named analyzer (a copy); ``ValueError`` names the known ones."""
    try:
        return copy.deepcopy(ANALYZERS[name])
    except KeyError:
        raise ValueError(f"unknown BM25 analyzer {name!r}; expected one of {', '.join(ANALYZERS)}") from None


# Kana, CJK (ext. A + unified), Hangul syllables, CJK compatibility, the supplementary ideograph planes.
_CJK = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]")


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds Han, kana or Hangul characters (which the ``english`` analyzer does not segment).
    One regex scan (C speed): the ingest path asks it of every row until it finds one."""
    return _CJK.search(text) is not None


def analyzer_name(params: dict[str, Any] | None) -> str | None:
    """The name of the analyzer whose params these are (None for params this module does not know)."""
    for name, known in ANALYZERS.items():
        if params == known:
            return name
    return None
