"""``catalog-search demo`` (what ``make demo`` runs) end to end: embedded stack, ingest, change stream, searches."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.kafka
@pytest.mark.milvus
def test_demo_ingests_the_sample_and_its_changes_then_searches(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    done = subprocess.run([sys.executable, "-m", "catalog_search.app.cli", "demo", "--data-dir", str(tmp_path / "demo")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "BM25 analyzer multilingual" in out                       # the half-Chinese sample needs jieba
    # 321 products carry 289 distinct texts: each goes to the model once, however the worker cuts its batches
    assert "ingested: events=321, embedded_texts=289, upserted=321" in out and "dead_lettered=0" in out
    # the change stream: re-titles/new products embedded, price/stock patches with no model call, deletes, stale
    assert ("ingested: events=60, embedded_texts=9, upserted=2, patched=52, deleted=5, stale=1, dead_lettered=0"
            in out)
    assert "318 live products, 5 tombstones" in out
    searches = out.split("$ catalog-search search ")[1:]
    assert len(searches) == 4
    top = [re.search(r"^1\s+(\S+)", s, re.MULTILINE).group(1) for s in searches]
    assert top[0].startswith("ZH-ELE") and top[1] == "EN-SPO-0011"  # Sony/Huawei headphones; HOKA running shoes
    assert all("rerank: none (no reranker configured)" in s for s in searches)
    filtered = searches[2]
    prices = [float(p.replace(",", "")) for p in re.findall(r"\s([\d,]+\.\d\d) (?:USD|EUR|CNY)", filtered)]
    assert prices and max(prices) <= 150.0
    grouped = searches[3]
    assert grouped.splitlines()[1].split()[:6] == ["#", "sku", "title", "price", "brand", "variants"]
    skus = re.findall(r"^\d+\s+(\S+)", grouped, re.MULTILINE)
    assert len(skus) == 5 and not {"EN-ELE-0006", "EN-ELE-0007"} <= set(skus)   # one XM5 tile, not two
    assert re.search(r"^facet brand: .*\bSony 2\b", grouped, re.MULTILINE) and "facet price:" in grouped
    assert "next page: --page-token" in grouped
    last = " ".join(out.rstrip().splitlines()[-2:])        # how to get the web page (tests/app/test_demo_ui.py)
    assert "make demo-ui" in last and "catalog-search demo --ui" in last and "http://127.0.0.1:7860/" in last
