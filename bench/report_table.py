"""Formatting helpers shared by the benchmark report's sections (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def fmt(value: Any, spec: str = "", *, suffix: str = "", none: str = "–") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return none
    if spec:
        return format(value, spec) + suffix
    return f"{value}{suffix}"


def bold(value: Any, spec: str = "", *, suffix: str = "") -> str:
    text = fmt(value, spec, suffix=suffix)
    return text if text == "–" else f"**{text}**"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
