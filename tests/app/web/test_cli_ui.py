"""``catalog-search ui`` as a user starts it: a real process in front of a real retrieval service, answering the page
and the API on the port it printed, stopping cleanly on SIGTERM; a busy port is a clear argument error."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.app.web.conftest import Web

ROOT = Path(__file__).resolve().parents[3]


def _cli(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    return subprocess.Popen([sys.executable, "-m", "catalog_search.app.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _url_from(proc: subprocess.Popen[str], timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        found = re.search(r"web page and HTTP API on (http://\S+/)", line)
        if found:
            return found.group(1)
    proc.kill()
    raise AssertionError(f"no URL printed; exit {proc.poll()}: {proc.stderr.read()[-2000:]}")


def test_ui_command_serves_the_page_and_the_api_until_sigterm(web: Web) -> None:
    proc = _cli("ui", "--port", "0", "--address", web.grpc_address, "--timeout", "20")
    try:
        url = _url_from(proc)
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "Rerank playground" in page.text
        found = httpx.post(url + "v1/search", json={"query": "running shoes", "top_k": 3}, timeout=30)
        assert found.status_code == 200 and len(found.json()["hits"]) == 3
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_a_busy_port_is_an_argument_error_naming_the_option() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = _cli("ui", "--port", str(port), "--address", "127.0.0.1:9")
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2 and f"cannot listen on 127.0.0.1:{port} (--host/--port)" in stderr, stderr
