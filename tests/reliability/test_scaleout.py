"""Part 2 (scale-out by partition): the log reading (pure) and the quick run of reliability/scaleout.py: three CLI
workers in one group on the real broker, one SIGKILLed and one added mid-stream, against the oracle."""

from __future__ import annotations

import pytest

from reliability import scaleout


def test_assignments_are_read_from_the_worker_log(tmp_path):
    log = tmp_path / "w.log"
    log.write_text("2026-12-01 16:05:41,154 INFO catalog_search.adapters.milvus.aliases: alias a -> c\n"
                   "2026-12-01 16:05:44,195 INFO catalog_search.ingest.worker: partitions assigned: "
                   "[('products-x', 5), ('products-x', 4)]\n"
                   "2026-12-01 16:05:56,253 INFO catalog_search.ingest.worker: partitions assigned: []\n",
                   encoding="utf-8")
    assert scaleout.assignments(log) == [("2026-12-01 16:05:44,195", [4, 5]), ("2026-12-01 16:05:56,253", [])]


@pytest.mark.kafka
@pytest.mark.milvus
def test_quick_run_rebalances_and_loses_nothing():
    result = scaleout.run(quick=True)
    assert result["passed"], ([c for c in result["checks"] if not c["passed"]],
                              result["correctness"]["stall_log_tails"])
    c = result["correctness"]
    assert (c["lost"], c["stale"], c["resurrected"], c["checker"]["regressions"]) == (0, 0, 0, 0)
    assert c["final_disjoint_cover"] and c["final_assignment"].get("w4")
    assert "SIGKILLed" in scaleout.render(result)
