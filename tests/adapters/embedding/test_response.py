"""Validation and normalisation of ``/embeddings`` responses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from catalog_search.core.errors import EmbeddingError
from tests.adapters.embedding.servers import FakeServer, make, respond


def test_rows_are_l2_normalised() -> None:
    out = make(FakeServer()).embed_documents(["x", "y", "z"])
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def _data(*vectors: Any, indices: list[Any] | None = None) -> dict[str, Any]:
    idx = indices if indices is not None else list(range(len(vectors)))
    return {"object": "list", "data": [{"index": i, "embedding": v} for i, v in zip(idx, vectors)]}


@pytest.mark.parametrize("body,match", [
    (_data([1.0] * 16), "1 embeddings for 2 inputs"),
    (_data([1.0] * 16, [1.0] * 16, [1.0] * 16), "3 embeddings for 2 inputs"),
    (_data([1.0] * 16, [1.0] * 16, indices=[0, 0]), "duplicate index"),
    (_data([1.0] * 16, [1.0] * 16, indices=[0, 5]), "bad or duplicate index 5"),
    (_data([1.0] * 16, [1.0] * 8), "dimension mismatch: got 8, expected 16"),
    (_data([1.0] * 16, "AAAAAAAA"), "no float list"),
    (_data([1.0] * 16, [0.0] * 16), "norm 0.0"),
    (_data([1.0] * 16, ["x"] * 16), "not numeric"),
    ({"object": "list"}, "no 'data' list"),
    ([1, 2, 3], "no 'data' list"),
])
def test_malformed_responses_are_non_retriable(body: Any, match: str) -> None:
    server = FakeServer()
    server.override = respond(200, body)
    with pytest.raises(EmbeddingError, match=match) as info:
        make(server).embed_documents(["a", "b"])
    assert info.value.retriable is False


def test_non_json_response_is_non_retriable() -> None:
    server = FakeServer()
    server.override = respond(200, text="<html>proxy says hi</html>")
    with pytest.raises(EmbeddingError, match="non-JSON") as info:
        make(server).embed_documents(["a"])
    assert info.value.retriable is False
