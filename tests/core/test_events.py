"""Event contract validation: every malformed shape gets a reason that names the problem."""

import json

import pytest

from catalog_search.core.events import Delete, InvalidEvent, Patch, Upsert, parse_event

UPSERT = {"op": "upsert", "sku": "A1", "version": 7, "title": "纯棉T恤", "description": "柔软", "brand": "优衣库",
          "category": "服装 > 男装 > T恤", "price": 129.0, "currency": "CNY", "in_stock": True, "locale": "zh-CN",
          "attributes": {"color": "black"}, "tenant": "default"}


def parse(obj, max_bytes=10_000):
    return parse_event(json.dumps(obj, ensure_ascii=False).encode(), max_bytes=max_bytes)


def reason(obj, **kw):
    with pytest.raises(InvalidEvent) as info:
        parse(obj, **kw) if not isinstance(obj, bytes) else parse_event(obj, max_bytes=10_000)
    return info.value.reason


def test_contract_examples_parse():
    up = parse(UPSERT)
    assert isinstance(up, Upsert) and up.fields["title"] == "纯棉T恤" and up.fields["price"] == 129.0
    patch = parse({"op": "patch", "sku": "A1", "version": 8, "price": 99.0, "in_stock": False})
    assert isinstance(patch, Patch) and dict(patch.fields) == {"price": 99.0, "in_stock": False}
    assert parse({"op": "delete", "sku": "A1", "version": 9}) == Delete("A1", 9)


def test_group_id_defaults_to_the_sku_and_a_patch_may_move_a_variant():
    assert parse(UPSERT).fields["group_id"] == "A1"
    assert parse({**UPSERT, "group_id": "TEE-1"}).fields["group_id"] == "TEE-1"
    patch = parse({"op": "patch", "sku": "A1", "version": 8, "group_id": "TEE-2"})
    assert dict(patch.fields) == {"group_id": "TEE-2"}
    assert "group_id: must be non-empty" in reason({**UPSERT, "group_id": ""})
    assert "group_id: must be non-empty" in reason({**UPSERT, "group_id": " TEE"})
    assert "group_id: longer than 256 bytes" in reason({**UPSERT, "group_id": "g" * 257})
    assert "group_id: Input should be a valid string" in reason({**UPSERT, "group_id": 7})


def test_integer_price_is_a_number():
    assert parse({**UPSERT, "price": 129}).fields["price"] == 129.0


@pytest.mark.parametrize("raw, expected", [
    (b"{not json", "not valid UTF-8 JSON"),
    (b"\xff\xfe", "not valid UTF-8 JSON"),
    (b"[1,2]", "must be a JSON object"),
    (None, "empty value"),
])
def test_unparseable(raw, expected):
    with pytest.raises(InvalidEvent) as info:
        parse_event(raw, max_bytes=100)
    assert expected in info.value.reason


@pytest.mark.parametrize("change, expected", [
    ({"op": "replace"}, "unknown op 'replace'"),
    ({"op": None}, "unknown op None"),
    ({"sku": None}, "sku: Input should be a valid string"),
    ({"sku": ""}, "sku: String should have at least 1 character"),
    ({"sku": " A1"}, "sku: must not have surrounding whitespace"),
    ({"version": "7"}, "version: Input should be a valid integer"),
    ({"version": 7.5}, "version: Input should be a valid integer"),
    ({"version": True}, "version: Input should be a valid integer"),
    ({"version": -1}, "version: Input should be greater than or equal to 0"),
    ({"price": "129"}, "price: Input should be a valid number"),
    ({"price": -1.0}, "price: must be a finite number"),
    ({"in_stock": "yes"}, "in_stock: Input should be a valid boolean"),
    ({"title": "  "}, "title: must not be empty"),
    ({"attributes": ["red"]}, "attributes: Input should be a valid dictionary"),
    ({"prcie": 1.0}, "prcie: unknown field"),
    ({"category": " > ".join("abcdefghij")}, "category: more than 8 levels"),
    ({"title": "衣" * 1000}, "title: longer than 2048 bytes"),
])
def test_invalid_upserts_name_the_field(change, expected):
    assert expected in reason({**UPSERT, **change})


def test_missing_required_fields():
    bad = {k: v for k, v in UPSERT.items() if k not in ("sku", "version", "title")}
    text = reason(bad)
    assert "sku: Field required" in text and "version: Field required" in text and "title: Field required" in text


def test_sku_is_reported_when_readable():
    with pytest.raises(InvalidEvent) as info:
        parse({**UPSERT, "price": "x"})
    assert info.value.sku == "A1"


def test_patch_rules():
    assert "patch changes no field" in reason({"op": "patch", "sku": "A1", "version": 2})
    assert "sets price to null" in reason({"op": "patch", "sku": "A1", "version": 2, "price": None})
    assert "sku: unknown field" not in reason({"op": "patch", "sku": "A1", "version": 2, "colour": "red"})
    assert "colour: unknown field" in reason({"op": "patch", "sku": "A1", "version": 2, "colour": "red"})


def test_delete_rejects_extra_fields():
    assert "title: unknown field" in reason({"op": "delete", "sku": "A1", "version": 2, "title": "x"})


def test_oversize_is_rejected_before_parsing():
    assert "oversize event" in reason({**UPSERT, "description": "x" * 500}, max_bytes=400)


# -- found by reliability/poison.py (issue 10): each of these stopped or wedged the real worker --------------------

def test_deep_nesting_is_an_invalid_event_not_a_recursion_error():
    # json.loads raised RecursionError, which escaped the worker's batch and killed it (again on every restart)
    with pytest.raises(InvalidEvent, match="^JSON nested too deeply to parse$"):
        parse_event(b"[" * 100_000 + b"]" * 100_000, max_bytes=256_000)
    nested = b'{"op":"upsert","sku":"N","version":1,"title":"x","price":1.0,"attributes":' + \
        b'{"a":' * 20_000 + b"1" + b"}" * 20_000 + b"}"
    with pytest.raises(InvalidEvent, match="nested too deeply"):
        parse_event(nested, max_bytes=256_000)


def test_versions_beyond_int64_are_refused():
    # 2^63 passed validation and then failed the INT64 version field in Milvus
    assert parse({"op": "delete", "sku": "A1", "version": 2 ** 63 - 1}) == Delete("A1", 2 ** 63 - 1)
    for version in (2 ** 63, 2 ** 64 + 1, 10 ** 400):
        assert "version: Input should be less than or equal to 9223372036854775807" in reason(
            {"op": "delete", "sku": "A1", "version": version})


def test_utf8_encoded_surrogates_are_invalid_utf8():
    # json.loads(bytes) decodes with surrogatepass: ED A0 80 got through as a lone surrogate
    raw = b'{"op":"upsert","sku":"U","version":1,"title":"\xed\xa0\x80","price":1.0}'
    assert reason(raw).startswith("not valid UTF-8 JSON:")


def test_escaped_lone_surrogates_are_named():
    assert "title: contains a lone surrogate \\ud800 (not valid Unicode text)" in reason(
        b'{"op":"upsert","sku":"U","version":1,"title":"a \\ud800","price":1.0}')
    assert "attributes: contains a lone surrogate \\udc00" in reason(
        b'{"op":"upsert","sku":"U","version":1,"title":"t","price":1.0,"attributes":{"k":"\\udc00"}}')
