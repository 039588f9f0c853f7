"""One marker per real service, over the whole suite: a test that uses a service (through the fixtures of
tests/support, or by starting one itself) carries its marker, and every such test also carries ``integration``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.marker_audit import SERVICES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("markers") / "audit.json"
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-p", "tests.support.marker_audit", "tests"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**__import__("os").environ, "CATALOG_MARKER_AUDIT": str(out)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_every_test_using_a_service_carries_its_marker(audit: list[dict]) -> None:
    missing = [(t["nodeid"], sorted(set(t["required"]) - set(t["markers"]))) for t in audit
               if not set(t["required"]) <= set(t["markers"])]
    assert missing == []
    need = Counter(s for t in audit for s in t["required"])
    assert all(need[s] >= 3 for s in SERVICES), need      # the audit sees each service's tests


def test_integration_is_exactly_the_tests_with_a_service_marker(audit: list[dict]) -> None:
    for t in audit:
        assert ("integration" in t["markers"]) == any(s in t["markers"] for s in SERVICES), t["nodeid"]


def test_nobody_marks_integration_by_hand() -> None:
    by_hand = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
               if "mark.integration" in p.read_text(encoding="utf-8") and p.name != "test_markers.py"]
    assert by_hand == []
