"""The pipelines reach Milvus only through the store protocols: no pymilvus, no adapter module, no raw client.

Checked on the source (imports parsed with ``ast``), so a new shortcut fails here before it works anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUARDED = ("retrieve", "ingest/reindex")
# Kafka is the catch-up's own business (owned with ingest/worker.py); it is not a store and not Milvus.
ALLOWED = {"ingest/reindex/catchup.py": {"catalog_search.adapters.kafka"}}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _sources() -> list[Path]:
    return sorted(p for folder in GUARDED for p in (ROOT / folder).rglob("*.py") if "proto" not in p.parts)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_milvus_outside_the_store(path: Path) -> None:
    rel = str(path.relative_to(ROOT))
    bad = {name for name in _imports(path) if name.split(".")[0] == "pymilvus"
           or name.startswith("catalog_search.adapters")} - ALLOWED.get(rel, set())
    assert not bad, f"{rel} imports {sorted(bad)}: use the core.store protocols"
    assert ".client." not in path.read_text(encoding="utf-8") and "store.client" not in path.read_text("utf-8")


def test_the_guard_sees_the_sources() -> None:
    assert any(p.name == "searcher.py" for p in _sources()) and any(p.name == "run.py" for p in _sources())
