"""Products with small dense vectors for the store tests."""

from __future__ import annotations

import numpy as np

from catalog_search.core.product import Product, embed_text

DIM = 8


def vec(*head: float, dim: int = DIM) -> np.ndarray:
    v = np.zeros(dim, dtype=np.float32)
    v[: len(head)] = head
    return v


def product(sku: str, **kw: object) -> Product:
    """A row as the ingest plan hands it to the store: its embedded text set (unless ``embedded_text`` is given)."""
    defaults: dict[str, object] = {"version": 1, "title": f"title {sku}", "vector": vec(1.0, 0.5)}
    defaults.update(kw)
    p = Product(sku=sku, **defaults)  # type: ignore[arg-type]
    return p if "embedded_text" in kw else p.with_changes(embedded_text=embed_text(p))
