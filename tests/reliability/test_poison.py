"""Part 4 in its quick size: the whole poison corpus (huge payloads included) on the real broker, Milvus Lite server
and the real worker process; every check of the part must pass."""

from __future__ import annotations

import pytest

from reliability import poison

pytestmark = [pytest.mark.kafka, pytest.mark.milvus]     # the part starts its own broker and Milvus Lite server


def test_poison_quick_run_passes_every_check():
    result = poison.run(quick=True)
    failed = [c for c in result["checks"] if not c["passed"]]
    assert result["passed"] and not failed, (failed, result.get("worker_log_tail", "")[-2000:])
    assert result["dead_lettered"] == result["poison_records"] >= len(poison.corpus())
    assert set(result["by_category"]) >= {"invalid JSON", "invalid UTF-8", "huge payloads", "deep nesting",
                                          "absurd versions", "bad prices", "unknown ops", "missing keys"}
    assert "| huge payloads |" in poison.render(result)
