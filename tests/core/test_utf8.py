"""Cutting text to a UTF-8 byte budget."""

from __future__ import annotations

import pytest

from catalog_search.core.utf8 import utf8_prefix


@pytest.mark.parametrize(("text", "max_bytes", "expected"), [
    ("abc", 3, "abc"),
    ("abc", 2, "ab"),
    ("无线电", 8, "无线"),        # 3 bytes per character: a cut inside the third one drops it
    ("无线电", 9, "无线电"),
    ("无线电", 2, ""),
    ("abc", -1, ""),
])
def test_utf8_prefix(text: str, max_bytes: int, expected: str) -> None:
    assert utf8_prefix(text, max_bytes) == expected
