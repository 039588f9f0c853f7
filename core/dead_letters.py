"""Dead letters: a record we could not apply, why, and where it came from — enough to fix and replay it.

The envelope is JSON so people can read the DLQ with any Kafka tool; the original value travels verbatim (as text
when it is UTF-8, else base64) together with its original topic, partition, offset, key and timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from catalog_search.core.records import SourceRecord


@dataclass(frozen=True)
class DeadLetter:
    record: SourceRecord
    reason: str

    def envelope(self, *, now_ms: int | None = None) -> dict[str, Any]:
        r = self.record
        body: dict[str, Any] = {
            "reason": self.reason,
            "topic": r.topic,
            "partition": r.partition,
            "offset": r.offset,
            "timestamp_ms": r.timestamp_ms,
            "dead_lettered_at_ms": now_ms if now_ms is not None else int(time.time() * 1000),
            "key": _text_or_b64(r.key),
            "value": _text_or_b64(r.value),
        }
        return body

    def to_bytes(self, max_bytes: int | None = None) -> bytes:
        """The envelope as JSON; over ``max_bytes`` (what the dead-letter topic takes) the value, then the key, is
        replaced by its size, SHA-256 and first bytes (``omitted``): the letter still says what and where it was."""
        body = self.envelope()
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for name in ("value", "key"):
            if max_bytes is None or len(raw) <= max_bytes:
                break
            original = getattr(self.record, name)
            if original is not None:
                body[name] = _omitted(original)
                raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return raw


def _text_or_b64(raw: bytes | None) -> dict[str, str] | None:
    if raw is None:
        return None
    try:
        return {"text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}


def _omitted(raw: bytes) -> dict[str, Any]:
    return {"omitted": {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest(),
                        "head": _text_or_b64(raw[:OMITTED_HEAD_BYTES])}}


OMITTED_HEAD_BYTES = 256


def original_bytes(field: dict[str, Any] | None) -> bytes | None:
    """Inverse of the envelope's key/value encoding (used by ``dlq replay``); ValueError for an omitted one."""
    if field is None:
        return None
    if "omitted" in field:
        size = field["omitted"].get("bytes") if isinstance(field["omitted"], dict) else "?"
        raise ValueError(f"the original ({size} bytes) was too large for the dead-letter topic and is not kept")
    if "text" in field:
        return field["text"].encode("utf-8")
    return base64.b64decode(field["base64"])


def parse_envelope(raw: bytes) -> dict[str, Any]:
    data = json.loads(raw)
    if not isinstance(data, dict) or "value" not in data or "topic" not in data:
        raise ValueError("not a dead-letter envelope (needs 'topic' and 'value')")
    return data
