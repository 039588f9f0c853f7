"""Name of the evaluation collection: model + dim + corpus hash, so a rebuilt corpus or model never reuses it."""

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


def collection_name(model_id: str, dim: int, products: Path) -> str:
    """``eval_<model slug>_<dim>_<corpus hash>``: a valid Milvus name (letters, digits, _), at most ~80 chars."""
    slug = re.sub(r"[^a-z0-9]+", "_", model_id.lower()).strip("_")[:48] or "model"
    return f"eval_{slug}_{dim}_{corpus_hash(products)}"
