"""`catalog-search stack up` stops its broker and Milvus Lite server on SIGTERM and SIGINT: no orphan keeps the
ports (a real broker and Milvus Lite process tree; the children are read from /proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalog_search.app.localstack import free_port, port_is_free

pytestmark = [pytest.mark.kafka, pytest.mark.milvus]


def descendants(pid: int) -> set[int]:
    out: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in out:
                    out.add(child)
                    todo.append(child)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stack_up_takes_its_children_with_it(tmp_path: Path, sig: signal.Signals) -> None:
    kafka_port, milvus_port = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "catalog_search.app.cli", "stack", "up", "--data-dir",
                             str(tmp_path / "stack"), "--kafka-port", str(kafka_port), "--milvus-port",
                             str(milvus_port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()             # printed once both servers answer
        assert line.startswith("export "), (line, proc.stderr.read() if proc.poll() is not None else "")
        children = descendants(proc.pid)
        assert children, "the stack runs its servers as child processes"
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 30
        while any(alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [c for c in children if alive(c)], "orphans left running"
        assert port_is_free(kafka_port) and port_is_free(milvus_port)
    finally:
        if proc.poll() is None:
            proc.kill()
