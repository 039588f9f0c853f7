"""``dlq replay`` selection: which dead letters a selector keeps (pure; the real broker path is in
tests/ingest/test_worker_kafka.py)."""

import pytest

from catalog_search.app.dlq_replay import Selection
from catalog_search.core.records import SourceRecord


def rec(partition: int, offset: int) -> SourceRecord:
    return SourceRecord("catalog.products.dlq", partition, offset, None, b"{}", timestamp_ms=1)


def test_reasons_are_case_insensitive_substrings_any_of():
    s = Selection(reasons=("Invalid Event", "embedding"))
    assert s.matches("invalid event: not JSON") and s.matches("embedding model rejected the product text")
    assert not s.matches("stale version") and Selection().matches("anything")


def test_partition_and_inclusive_offset_range():
    s = Selection(partition=1, from_offset=5, to_offset=7)
    assert [o for o in range(10) if s.in_range(rec(1, o))] == [5, 6, 7]
    assert not s.in_range(rec(0, 6))
    assert Selection().everything and not s.everything and not Selection(reasons=("x",)).everything


@pytest.mark.parametrize("kwargs, message", [
    ({"from_offset": 5, "to_offset": 2}, "below from-offset"), ({"partition": -1}, "partition must be >= 0"),
    ({"reasons": (" ",)}, "reason must not be empty")])
def test_bad_selections_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Selection(**kwargs)
