"""The catalog event contract and its validation (pure: bytes in, typed event or ``InvalidEvent`` out).

    {"op":"upsert","sku":"A1","version":7,"title":…,"description":…,"brand":…,"category":"A > B","price":129.0,
     "currency":"CNY","in_stock":true,"locale":"zh-CN","attributes":{"color":"black"},"tenant":"default",
     "group_id":"A"}                                                          # group_id: optional, default the sku
    {"op":"patch","sku":"A1","version":8,"price":99.0,"in_stock":false}     # only the fields present change
    {"op":"delete","sku":"A1","version":9}
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, ValidationError, field_validator

from catalog_search.core import limits

PRODUCT_FIELDS = ("title", "description", "brand", "category", "price", "currency", "in_stock", "locale",
                  "attributes", "tenant", "group_id")


class InvalidEvent(ValueError):
    """The event breaks the contract; ``reason`` says how, in words meant for whoever fixes the producer."""

    def __init__(self, reason: str, *, sku: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sku = sku


def _utf8_size(value: str) -> int:
    """UTF-8 size of ``value``; a lone UTF-16 surrogate (JSON ``"\\ud800"``) is not Unicode text: ValueError."""
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError as exc:
        bad = value[exc.start]
        raise ValueError(f"contains a lone surrogate \\u{ord(bad):04x} (not valid Unicode text)") from None


def _max_bytes(limit: int):
    def check(value: str) -> str:
        if _utf8_size(value) > limit:
            raise ValueError(f"longer than {limit} bytes (UTF-8)")
        return value
    return check


Sku = Annotated[str, Field(min_length=1, strict=True)]
Text = Annotated[str, Field(strict=True)]
Version = Annotated[StrictInt, Field(ge=0, le=limits.VERSION_MAX)]


class _Fields(BaseModel):
    """Product fields with their types and size limits; shared by upsert (all required) and patch (all optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("sku", check_fields=False)
    @classmethod
    def _sku(cls, v: str) -> str:
        if v != v.strip() or any(ord(c) < 32 for c in v):
            raise ValueError("must not have surrounding whitespace or control characters")
        return _max_bytes(limits.SKU_MAX_BYTES)(v)

    @field_validator("group_id", check_fields=False)
    @classmethod
    def _group_id(cls, v: str | None) -> str | None:
        """The parent listing a sku is a variant of (colour, size): an identifier like a sku."""
        if v is None:
            return v
        if not v or v != v.strip() or any(ord(c) < 32 for c in v):
            raise ValueError("must be non-empty, without surrounding whitespace or control characters")
        return _max_bytes(limits.GROUP_ID_MAX_BYTES)(v)

    @field_validator("title", check_fields=False)
    @classmethod
    def _title(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be empty")
        return v if v is None else _max_bytes(limits.TITLE_MAX_BYTES)(v)

    @field_validator("description", check_fields=False)
    @classmethod
    def _description(cls, v: str | None) -> str | None:
        return v if v is None else _max_bytes(limits.DESCRIPTION_MAX_BYTES)(v)

    @field_validator("brand", check_fields=False)
    @classmethod
    def _brand(cls, v: str | None) -> str | None:
        return v if v is None else _max_bytes(limits.BRAND_MAX_BYTES)(v)

    @field_validator("category", check_fields=False)
    @classmethod
    def _category(cls, v: str | None) -> str | None:
        if v is not None and v.count(">") >= limits.CATEGORY_MAX_LEVELS:
            raise ValueError(f"more than {limits.CATEGORY_MAX_LEVELS} levels")
        return v if v is None else _max_bytes(limits.CATEGORY_MAX_BYTES)(v)

    @field_validator("price", check_fields=False)
    @classmethod
    def _price(cls, v: float | None) -> float | None:
        if v is not None and (not math.isfinite(v) or v < 0):
            raise ValueError("must be a finite number ≥ 0")
        return v

    @field_validator("currency", check_fields=False)
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        return v if v is None else _max_bytes(limits.CURRENCY_MAX_BYTES)(v)

    @field_validator("locale", check_fields=False)
    @classmethod
    def _locale(cls, v: str | None) -> str | None:
        return v if v is None else _max_bytes(limits.LOCALE_MAX_BYTES)(v)

    @field_validator("tenant", check_fields=False)
    @classmethod
    def _tenant(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be empty")
        return v if v is None else _max_bytes(limits.TENANT_MAX_BYTES)(v)

    @field_validator("attributes", check_fields=False)
    @classmethod
    def _attributes(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None and _utf8_size(json.dumps(v, ensure_ascii=False)) > limits.ATTRIBUTES_MAX_BYTES:
            raise ValueError(f"larger than {limits.ATTRIBUTES_MAX_BYTES} bytes as JSON")
        return v


class _UpsertModel(_Fields):
    op: Literal["upsert"]
    sku: Sku
    version: Version
    title: Text
    description: Text = ""
    brand: Text = ""
    category: Text = ""
    price: StrictFloat
    currency: Text = ""
    in_stock: StrictBool = True
    locale: Text = ""
    attributes: dict[str, Any] = Field(default_factory=dict)
    tenant: Text = "default"
    group_id: Text | None = None           # None: the sku itself (a product without variants)


class _PatchModel(_Fields):
    op: Literal["patch"]
    sku: Sku
    version: Version
    title: Text | None = None
    description: Text | None = None
    brand: Text | None = None
    category: Text | None = None
    price: StrictFloat | None = None
    currency: Text | None = None
    in_stock: StrictBool | None = None
    locale: Text | None = None
    attributes: dict[str, Any] | None = None
    tenant: Text | None = None
    group_id: Text | None = None


class _DeleteModel(_Fields):
    op: Literal["delete"]
    sku: Sku
    version: Version


@dataclass(frozen=True)
class Upsert:
    sku: str
    version: int
    fields: Mapping[str, Any]          # every product field


@dataclass(frozen=True)
class Patch:
    sku: str
    version: int
    fields: Mapping[str, Any]          # only the fields present in the event

    def __post_init__(self) -> None:
        if not self.fields:
            raise InvalidEvent("patch changes no field", sku=self.sku)


@dataclass(frozen=True)
class Delete:
    sku: str
    version: int


Event = Upsert | Patch | Delete
_MODELS = {"upsert": _UpsertModel, "patch": _PatchModel, "delete": _DeleteModel}


def parse_event(raw: bytes | None, *, max_bytes: int) -> Event:
    """Validate one Kafka record value (or JSON Lines line) against the contract."""
    if raw is None:
        raise InvalidEvent("empty value (tombstone records are not part of the contract; send op=delete)")
    if len(raw) > max_bytes:
        raise InvalidEvent(f"oversize event: {len(raw)} bytes > limit {max_bytes}")
    try:
        # decoded strictly first: json.loads(bytes) lets UTF-8-encoded surrogates (ED A0 80) through
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not valid UTF-8 JSON: {exc}") from exc
    except RecursionError:
        raise InvalidEvent("JSON nested too deeply to parse") from None
    try:
        return event_from_dict(data)
    except RecursionError:       # deep nesting that parsed, inside attributes (validation walks it)
        raise InvalidEvent("attributes: nested too deeply") from None


def event_from_dict(data: Any) -> Event:
    if not isinstance(data, dict):
        raise InvalidEvent(f"event must be a JSON object, got {type(data).__name__}")
    sku = data.get("sku") if isinstance(data.get("sku"), str) else None
    op = data.get("op")
    model = _MODELS.get(op) if isinstance(op, str) else None
    if model is None:
        raise InvalidEvent(f"unknown op {op!r}: expected one of upsert, patch, delete", sku=sku)
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(_describe(exc), sku=sku) from exc
    if isinstance(parsed, _UpsertModel):
        fields = {name: getattr(parsed, name) for name in PRODUCT_FIELDS}
        fields["group_id"] = parsed.group_id or parsed.sku
        return Upsert(parsed.sku, parsed.version, fields)
    if isinstance(parsed, _PatchModel):
        present = {name: getattr(parsed, name) for name in PRODUCT_FIELDS if name in parsed.model_fields_set}
        if any(value is None for value in present.values()):
            nulls = sorted(k for k, v in present.items() if v is None)
            raise InvalidEvent(f"patch sets {', '.join(nulls)} to null; omit a field to leave it unchanged", sku=sku)
        return Patch(parsed.sku, parsed.version, present)
    return Delete(parsed.sku, parsed.version)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "event"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field (not part of the event contract)"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
