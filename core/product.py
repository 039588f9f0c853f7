"""The stored product record and the text we embed for it (pure functions, no I/O)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

# Attribute keys whose values describe what a product *is* and therefore go into the embedded text.
# Everything else (sku-level logistics, warehouse codes, ...) stays a filterable scalar only.
DEFAULT_EMBED_ATTRIBUTES: tuple[str, ...] = ("color", "material", "style", "pattern", "gender", "size", "capacity", "power")
DESCRIPTION_EMBED_CHARS = 400
CATEGORY_SEPARATOR = ">"


@dataclass(frozen=True)
class Product:
    """One row of the catalog collection: the latest known state of a sku, or its tombstone.

    ``vector`` is None only while a new text waits to be embedded (never stored like that) and for tombstones of skus
    that were never live; ``text_hash`` identifies the embedded text so that unchanged text is never re-embedded.
    ``embedded_text`` is that text (``embed_text`` of the row), computed once by the ingest plan: the store writes
    it as given (BM25 indexes it), so the attribute list lives in one place.
    """

    sku: str
    version: int
    deleted: bool = False
    tenant: str = "default"
    locale: str = ""
    title: str = ""
    description: str = ""
    brand: str = ""
    category: str = ""
    price: float = 0.0
    currency: str = ""
    in_stock: bool = False
    attributes: Mapping[str, Any] = field(default_factory=dict)
    group_id: str = ""                  # parent listing of variants; "" = the sku itself (see ``group``)
    text_hash: str = ""
    embedded_text: str = ""
    updated_at_ms: int = 0
    vector: np.ndarray | None = None

    def with_changes(self, **changes: Any) -> "Product":
        return replace(self, **changes)

    @property
    def group(self) -> str:
        """The variant group this sku belongs to: ``group_id``, or the sku itself when it has none."""
        return self.group_id or self.sku

    @property
    def category_levels(self) -> list[str]:
        return category_levels(self.category)


def category_levels(category: str) -> list[str]:
    """Every prefix of a category path, normalised: "A > B > C" -> ["A", "A > B", "A > B > C"]."""
    parts = [p.strip() for p in category.split(CATEGORY_SEPARATOR) if p.strip()]
    return [" > ".join(parts[: i + 1]) for i in range(len(parts))]


def embed_text(product: Product, *, embed_attributes: Iterable[str] = DEFAULT_EMBED_ATTRIBUTES,
               description_chars: int = DESCRIPTION_EMBED_CHARS) -> str:
    """The text that represents a product to the embedding model and to BM25.

    Title first (it matters most and survives truncation), then brand, category path, key attributes in a fixed
    order, then the first ``description_chars`` characters of the description. Price, stock, currency, tenant and
    locale are never part of it, so price/stock changes never need the model.
    """
    lines = [product.title.strip()]
    if product.brand.strip():
        lines.append(f"Brand: {product.brand.strip()}")
    levels = category_levels(product.category)
    if levels:
        lines.append(f"Category: {levels[-1]}")
    attrs = [f"{key}: {_attr_value(product.attributes[key])}" for key in embed_attributes
             if key in product.attributes and _attr_value(product.attributes[key])]
    if attrs:
        lines.append("; ".join(attrs))
    description = " ".join(product.description.split())[:description_chars]
    if description:
        lines.append(description)
    return "\n".join(line for line in lines if line)


def _attr_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value).strip()


def text_hash(text: str) -> str:
    """Stable fingerprint of an embedded text (sha256 hex, first 32 chars)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
