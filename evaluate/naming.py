"""Name of the evaluation collection: model + dim + corpus and BM25 hash, so a rebuilt corpus, another model or
another BM25 analyzer / k1 / b never reuses it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

CHUNK = 1 << 20


def corpus_hash(path: Path, chars: int = 12) -> str:
    """sha256 of the products file's bytes (first ``chars`` hex digits)."""
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()[:chars]


def collection_name(model_id: str, dim: int, products: Path, text_signature: str = "") -> str:
    """``eval_<model slug>_<dim>_<corpus hash>[_<BM25 signature>]``: a valid Milvus name (letters, digits, _),
    at most ~90 chars. ``text_signature``: ``schema.text_index_signature(analyzer)``."""
    slug = re.sub(r"[^a-z0-9]+", "_", model_id.lower()).strip("_")[:48] or "model"
    suffix = f"_{text_signature}" if text_signature else ""
    return f"eval_{slug}_{dim}_{corpus_hash(products)}{suffix}"
