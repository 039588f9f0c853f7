"""BM25 analyzer table and the CJK detection behind the english-analyzer warning (pure)."""

from __future__ import annotations

import pytest

from catalog_search.adapters.milvus import analyzers as A


def test_analyzer_params_are_copies_and_names_round_trip() -> None:
    params = A.analyzer_params("english")
    params["filter"].append("mutated")
    assert "mutated" not in A.ANALYZERS["english"]["filter"]
    assert A.analyzer_name(A.analyzer_params("multilingual")) == "multilingual"
    assert A.analyzer_name({"tokenizer": "whitespace"}) is None and A.analyzer_name(None) is None
    with pytest.raises(ValueError, match="unknown BM25 analyzer"):
        A.analyzer_params("")


@pytest.mark.parametrize(("text", "cjk"), [
    ("男士跑步鞋", True), ("ランニング", True), ("러닝화", True), ("Nike 跑鞋 Air", True),
    ("Running shoes 1.9 cu. ft.", False), ("Laufschuhe für Herren — größe 42", False), ("", False),
])
def test_has_cjk(text: str, cjk: bool) -> None:
    assert A.has_cjk(text) is cjk
