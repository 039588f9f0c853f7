"""Every long-running command stops cleanly on SIGTERM and SIGINT: exit status 0 (or 130 for Ctrl-C where the command
says so), promptly, and no child process left behind (real broker and Milvus Lite; children read from /proc).
`stack up` has its own test (tests/app/test_stack_up_signals.py): it owns the servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalog_search.app.localstack import free_port
from tests.app.test_stack_up_signals import alive, descendants
from tests.ingest.kafka_env import make_env

COMMANDS = {
    "serve": (["serve"], "listening on"),
    "ingest kafka": (["--log", "ingest", "kafka"], "partitions assigned"),
    "ui": (["ui", "--port", "0"], "web page and HTTP API on"),
}


def wait_for(log: Path, marker: str, proc: subprocess.Popen, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if marker in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"no {marker!r} in the output:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_long_running_commands_stop_cleanly(kafka_broker, milvus_server, tmp_path: Path, command: str,
                                            sig: signal.Signals) -> None:
    args, marker = COMMANDS[command]
    env = make_env(kafka_broker.bootstrap, milvus_server.uri, tmp_path,
                   CATALOG_GRPC_ADDRESS=f"127.0.0.1:{free_port()}")
    if command.startswith("ingest"):
        env.publish({"op": "upsert", "sku": "SIG-1", "version": 1, "title": "signal test drill"})
    log = tmp_path / "out.log"
    proc = env.spawn(*args, log=log)
    try:
        wait_for(log, marker, proc)
        children = descendants(proc.pid)
        started = time.monotonic()
        proc.send_signal(sig)
        code = proc.wait(timeout=45)
        assert code in (0, 130), log.read_text(errors="replace")[-3000:]
        assert time.monotonic() - started < 45
        time.sleep(0.5)
        assert not [c for c in children if alive(c)], "children left running"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
