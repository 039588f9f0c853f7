"""Dead-letter envelopes: the original travels verbatim, unless it is too large for the dead-letter topic."""

import hashlib
import json

import pytest

from catalog_search.core.dead_letters import DeadLetter, original_bytes, parse_envelope
from catalog_search.core.records import SourceRecord


def record(value: bytes | None, key: bytes | None = b"k") -> SourceRecord:
    return SourceRecord(topic="t", partition=1, offset=42, key=key, value=value, timestamp_ms=5)


def test_round_trip_text_and_binary():
    for value in (b'{"op": "x"}', b"\xff\xfe", None):
        envelope = parse_envelope(DeadLetter(record(value), "why").to_bytes())
        assert original_bytes(envelope["value"]) == value and original_bytes(envelope["key"]) == b"k"


def test_an_envelope_never_exceeds_max_bytes():
    # found by reliability/poison.py (issue 10): a 2 MB event made a 2 MB letter, which the DLQ producer refused
    # for good (MessageSizeTooLargeError), so the worker died on that event and again after every restart
    value = b"x" * 2_000_000
    raw = DeadLetter(record(value), "invalid event: oversize event").to_bytes(max_bytes=100_000)
    assert len(raw) <= 100_000
    envelope = json.loads(raw)
    omitted = envelope["value"]["omitted"]
    assert omitted["bytes"] == 2_000_000 and omitted["sha256"] == hashlib.sha256(value).hexdigest()
    assert (envelope["reason"], envelope["offset"], envelope["partition"]) == ("invalid event: oversize event", 42, 1)
    assert original_bytes(envelope["key"]) == b"k"                      # the key still fits: kept
    with pytest.raises(ValueError, match="too large for the dead-letter topic"):
        original_bytes(envelope["value"])


def test_a_huge_key_is_omitted_too_and_small_letters_are_untouched():
    raw = DeadLetter(record(b"v" * 50_000, key=b"k" * 200_000), "r").to_bytes(max_bytes=100_000)
    envelope = json.loads(raw)
    assert len(raw) <= 100_000 and "omitted" in envelope["value"] and "omitted" in envelope["key"]
    small = DeadLetter(record(b"v" * 100), "r")
    assert small.to_bytes(max_bytes=100_000) == small.to_bytes()
