"""``catalog-search demo --ui`` (``make demo-ui``): the demo, then the stack, the retrieval service and the web page
stay up until Ctrl-C: the printed URL serves the page and searches the sample catalog."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from catalog_search.app.localstack import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.kafka
@pytest.mark.milvus
def test_demo_ui_keeps_the_stack_and_the_page_until_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "catalog_search.app.cli", "demo", "--ui", "--port", str(port),
                             "--data-dir", str(tmp_path / "demo")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 540
        assert proc.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            found = re.match(r"web page: (http://\S+/)", line)
            url = found.group(1) if found else None
        assert url == f"http://127.0.0.1:{port}/", (proc.poll(), proc.stderr.read()[-3000:] if proc.poll() else "")
        assert "Rerank playground" in httpx.get(url, timeout=10).text
        assert httpx.get(url + "v1/status", timeout=10).json()["serving"] is True
        found = httpx.post(url + "v1/search", json={"query": "无线降噪耳机", "top_k": 5}, timeout=30)
        assert found.status_code == 200, found.text
        assert found.json()["hits"][0]["sku"].startswith("ZH-ELE")       # as the demo's own search finds it
        time.sleep(1.0)                                                  # still up: it waits for Ctrl-C
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr[-3000:]
