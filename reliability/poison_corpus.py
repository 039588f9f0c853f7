"""The poison corpus of part 4: records that break the event contract, each with what its dead letter must say.

``corpus()`` returns ``Poison`` cases by category (invalid JSON, invalid UTF-8, not an object, wrong types, missing
keys, unknown ops, unknown fields, bad prices, absurd versions, oversize fields, huge payloads, deep nesting, bad
identifiers, null values and keys, patches that cannot apply); ``good(i)`` the valid upserts interleaved with them.
Each case carries the Kafka key it is sent with and ``reason``: a substring its dead letter's reason must contain
(naming what is wrong). Pure data: no broker, no store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from catalog_search.core import limits

MAX_EVENT_BYTES = 256_000          # the worker's default CATALOG_MAX_EVENT_BYTES (the runs use the default)


@dataclass(frozen=True)
class Poison:
    category: str
    name: str
    value: bytes | None
    reason: str                    # a substring of the dead letter's reason
    key: bytes | None = b"poison"


def upsert(sku: str, version: int = 1, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"op": "upsert", "sku": sku, "version": version, "title": f"Cordless drill {sku}",
                             "description": "Two batteries, charger and case.", "brand": "Bosch",
                             "category": "Tools > Power tools > Drills", "price": 99.5, "currency": "USD",
                             "in_stock": True, "locale": "en-US", "attributes": {"color": "blue"}}
    event.update(fields)
    return event


def good(i: int) -> dict[str, Any]:
    return upsert(f"GOOD-{i:05d}", 1 + i % 7, price=float(10 + i % 90))


def _j(event: Any) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


def _case(category: str, name: str, event: Any, reason: str, key: bytes | None = b"poison") -> Poison:
    return Poison(category, name, event if isinstance(event, bytes) or event is None else _j(event), reason, key)


def corpus(*, quick: bool = False) -> list[Poison]:
    """Every poison case; ``quick`` keeps all categories (the huge payloads too) and drops nothing that matters."""
    invalid = "not valid UTF-8 JSON"
    cases = [
        # -- invalid JSON ---------------------------------------------------------------------------------------
        _case("invalid JSON", "not JSON at all", b"{not json", invalid),
        _case("invalid JSON", "truncated object", b'{"op": "upsert", "sku": "T1", "version": 1, "ti', invalid),
        _case("invalid JSON", "trailing comma", b'{"op": "delete", "sku": "T2", "version": 1,}', invalid),
        _case("invalid JSON", "single quotes", b"{'op': 'delete', 'sku': 'T3', 'version': 1}", invalid),
        _case("invalid JSON", "empty bytes", b"", invalid),
        _case("invalid JSON", "whitespace only", b"  \n\t ", invalid),
        _case("invalid JSON", "two objects", b'{"op":"delete","sku":"T4","version":1}{"op":"delete"}', invalid),
        _case("invalid JSON", "bare NUL bytes", b"\x00\x00\x00\x00", invalid),
        # -- invalid UTF-8 --------------------------------------------------------------------------------------
        _case("invalid UTF-8", "lone 0xFF", b"\xff\xfe\x00", invalid),
        _case("invalid UTF-8", "bad byte in a string",
              b'{"op":"upsert","sku":"U1","version":1,"title":"caf\xe9","price":1.0}', invalid),
        _case("invalid UTF-8", "overlong encoding of /",
              b'{"op":"upsert","sku":"U2\xc0\xaf","version":1,"title":"x","price":1.0}', invalid),
        _case("invalid UTF-8", "encoded surrogate",
              b'{"op":"upsert","sku":"U3","version":1,"title":"\xed\xa0\x80","price":1.0}', invalid),
        _case("invalid UTF-8", "truncated multibyte char",
              b'{"op":"upsert","sku":"U4","version":1,"title":"\xe4\xb8","price":1.0}', invalid),
        _case("invalid UTF-8", "escaped lone surrogate in the title",
              b'{"op":"upsert","sku":"U5","version":1,"title":"bad \\ud800 text","price":1.0}',
              "title: contains a lone surrogate \\ud800"),
        _case("invalid UTF-8", "escaped lone surrogate in the sku",
              b'{"op":"delete","sku":"U6\\udfff","version":1}', "sku"),
        _case("invalid UTF-8", "escaped lone surrogate in an attribute",
              b'{"op":"upsert","sku":"U7","version":1,"title":"t","price":1.0,"attributes":{"c":"\\ud83d"}}',
              "attributes: contains a lone surrogate"),
        # -- not an object --------------------------------------------------------------------------------------
        _case("not an object", "array", b"[1, 2, 3]", "must be a JSON object"),
        _case("not an object", "string", b'"upsert"', "must be a JSON object"),
        _case("not an object", "number", b"42", "must be a JSON object"),
        _case("not an object", "JSON null", b"null", "must be a JSON object"),
        # -- missing keys ---------------------------------------------------------------------------------------
        _case("missing keys", "no op", {"sku": "M1", "version": 1, "title": "x", "price": 1.0}, "unknown op None"),
        _case("missing keys", "no sku", {"op": "upsert", "version": 1, "title": "x", "price": 1.0},
              "sku: Field required"),
        _case("missing keys", "no version", {"op": "delete", "sku": "M3"}, "version: Field required"),
        _case("missing keys", "upsert without title", {"op": "upsert", "sku": "M4", "version": 1, "price": 1.0},
              "title: Field required"),
        _case("missing keys", "upsert without price", {"op": "upsert", "sku": "M5", "version": 1, "title": "x"},
              "price: Field required"),
        _case("missing keys", "empty object", {}, "unknown op None"),
        # -- wrong types ----------------------------------------------------------------------------------------
        _case("wrong types", "version as string", upsert("W1", "1"), "version: Input should be a valid integer"),
        _case("wrong types", "price as string", upsert("W2", price="9.99"), "price: Input should be a valid number"),
        _case("wrong types", "price as bool", upsert("W3", price=True), "price: Input should be a valid number"),
        _case("wrong types", "in_stock as string", upsert("W4", in_stock="yes"),
              "in_stock: Input should be a valid boolean"),
        _case("wrong types", "title as number", upsert("W5", title=123), "title: Input should be a valid string"),
        _case("wrong types", "sku as number", {"op": "delete", "sku": 7, "version": 1},
              "sku: Input should be a valid string"),
        _case("wrong types", "attributes as list", upsert("W7", attributes=["blue"]),
              "attributes: Input should be a valid dictionary"),
        _case("wrong types", "tenant as object", upsert("W8", tenant={"id": "t"}),
              "tenant: Input should be a valid string"),
        _case("wrong types", "op as number", {"op": 1, "sku": "W9", "version": 1}, "unknown op 1"),
        # -- unknown ops and fields -----------------------------------------------------------------------------
        _case("unknown ops", "replace", {"op": "replace", "sku": "O1", "version": 1}, "unknown op 'replace'"),
        _case("unknown ops", "upper case", {"op": "UPSERT", "sku": "O2", "version": 1}, "unknown op 'UPSERT'"),
        _case("unknown ops", "empty op", {"op": "", "sku": "O3", "version": 1}, "unknown op ''"),
        _case("unknown ops", "op with spaces", {"op": " delete ", "sku": "O4", "version": 1}, "unknown op ' delete '"),
        _case("unknown fields", "misspelt field", upsert("F1", colour="red"),
              "colour: unknown field (not part of the event contract)"),
        _case("unknown fields", "field on a delete", {"op": "delete", "sku": "F2", "version": 1, "price": 1.0},
              "price: unknown field"),
        # -- prices ---------------------------------------------------------------------------------------------
        _case("bad prices", "NaN", b'{"op":"upsert","sku":"P1","version":1,"title":"x","price":NaN}',
              "price: must be a finite number"),
        _case("bad prices", "Infinity", b'{"op":"upsert","sku":"P2","version":1,"title":"x","price":Infinity}',
              "price: must be a finite number"),
        _case("bad prices", "-Infinity", b'{"op":"patch","sku":"P3","version":2,"price":-Infinity}',
              "price: must be a finite number"),
        _case("bad prices", "overflows to infinity", b'{"op":"upsert","sku":"P4","version":1,"title":"x",'
                                                     b'"price":1e999}', "price: must be a finite number"),
        _case("bad prices", "negative", upsert("P5", price=-0.01), "price: must be a finite number ≥ 0"),
        # -- versions -------------------------------------------------------------------------------------------
        _case("absurd versions", "negative", upsert("V1", -1), "version: Input should be greater than or equal to 0"),
        _case("absurd versions", "float", upsert("V2", 1.5), "version: Input should be a valid integer"),
        _case("absurd versions", "integral float", upsert("V3", 3.0), "version: Input should be a valid integer"),
        _case("absurd versions", "bool", upsert("V4", True), "version: Input should be a valid integer"),
        _case("absurd versions", "2^63 (INT64 overflow)", upsert("V5", 2 ** 63), "version: Input should be less than or equal to"),
        _case("absurd versions", "2^64 + 1", {"op": "delete", "sku": "V6", "version": 2 ** 64 + 1},
              "version: Input should be less than or equal to"),
        _case("absurd versions", "a 400-digit number", b'{"op":"delete","sku":"V7","version":' + b"9" * 400 + b"}",
              "version: Input should be less than or equal to"),
        _case("absurd versions", "exponent", b'{"op":"delete","sku":"V8","version":1e3}',
              "version: Input should be a valid integer"),
        _case("absurd versions", "null", {"op": "delete", "sku": "V9", "version": None},
              "version: Input should be a valid integer"),
        # -- oversize fields (the event itself is small enough) ------------------------------------------------
        _case("oversize fields", "title", upsert("S1", title="t" * (limits.TITLE_MAX_BYTES + 1)),
              f"title: longer than {limits.TITLE_MAX_BYTES} bytes"),
        _case("oversize fields", "title in 3-byte characters",
              upsert("S2", title="长" * (limits.TITLE_MAX_BYTES // 3 + 1)), "title: longer than"),
        _case("oversize fields", "description", upsert("S3", description="d" * (limits.DESCRIPTION_MAX_BYTES + 1)),
              "description: longer than"),
        _case("oversize fields", "brand", upsert("S4", brand="b" * (limits.BRAND_MAX_BYTES + 1)), "brand: longer than"),
        _case("oversize fields", "category levels", upsert("S5", category=" > ".join("c" * 9)),
              "category: more than"),
        _case("oversize fields", "attributes", upsert("S6", attributes={"k": "v" * limits.ATTRIBUTES_MAX_BYTES}),
              "attributes: larger than"),
        _case("oversize fields", "sku", {"op": "delete", "sku": "s" * (limits.SKU_MAX_BYTES + 1), "version": 1},
              "sku: longer than"),
        _case("oversize fields", "tenant", upsert("S8", tenant="t" * (limits.TENANT_MAX_BYTES + 1)),
              "tenant: longer than"),
        _case("oversize fields", "currency", upsert("S9", currency="DOLLARS!!"), "currency: longer than"),
        _case("oversize fields", "locale", upsert("S10", locale="l" * (limits.LOCALE_MAX_BYTES + 1)),
              "locale: longer than"),
        _case("oversize fields", "group_id", upsert("S11", group_id="g" * (limits.GROUP_ID_MAX_BYTES + 1)),
              "group_id: longer than"),
        # -- huge payloads --------------------------------------------------------------------------------------
        _case("huge payloads", "just over the event limit",
              upsert("H1", description="x" * MAX_EVENT_BYTES), "oversize event"),
        _case("huge payloads", "900 kB of 3-byte characters",
              upsert("H2", description="长" * 300_000), "oversize event"),
        _case("huge payloads", "900 kB of escapes (binary-looking)", b"\x01" * 900_000, "oversize event"),
        # -- deep nesting ---------------------------------------------------------------------------------------
        _case("deep nesting", "100k nested arrays", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        _case("deep nesting", "20k nested objects in attributes",
              b'{"op":"upsert","sku":"N2","version":1,"title":"x","price":1.0,"attributes":'
              + b'{"a":' * 20_000 + b"1" + b"}" * 20_000 + b"}", "nested too deeply"),
        # -- bad identifiers and text ---------------------------------------------------------------------------
        _case("bad identifiers", "empty sku", {"op": "delete", "sku": "", "version": 1}, "sku: String should have"),
        _case("bad identifiers", "sku with spaces around", {"op": "delete", "sku": " X1 ", "version": 1},
              "sku: must not have surrounding whitespace"),
        _case("bad identifiers", "sku with a newline", {"op": "delete", "sku": "X2\nX3", "version": 1},
              "sku: must not have surrounding whitespace or control characters"),
        _case("bad identifiers", "sku with NUL", {"op": "delete", "sku": "X4\u0000", "version": 1},
              "control characters"),
        _case("bad identifiers", "blank title", upsert("X5", title="   "), "title: must not be empty"),
        _case("bad identifiers", "blank tenant", upsert("X6", tenant=" "), "tenant: must not be empty"),
        _case("bad identifiers", "empty group_id", upsert("X7", group_id=""), "group_id: must be non-empty"),
        # -- nulls ----------------------------------------------------------------------------------------------
        _case("nulls", "tombstone (null value)", None, "empty value"),
        _case("nulls", "null key, null op", {"op": None, "sku": "Z0", "version": 1}, "unknown op None", key=None),
        _case("nulls", "null title on upsert", upsert("Z1", title=None), "title: Input should be a valid string"),
        _case("nulls", "patch sets price to null", {"op": "patch", "sku": "GOOD-00000", "version": 99, "price": None},
              "patch sets price to null"),
        _case("nulls", "patch with no field", {"op": "patch", "sku": "GOOD-00000", "version": 99},
              "patch changes no field"),
        # -- patches that cannot apply --------------------------------------------------------------------------
        _case("unappliable", "patch of an unknown sku", {"op": "patch", "sku": "NEVER-SEEN", "version": 2,
                                                         "price": 5.0}, "patch for unknown sku 'NEVER-SEEN'"),
    ]
    return cases


CATEGORIES = tuple(dict.fromkeys(c.category for c in corpus()))
