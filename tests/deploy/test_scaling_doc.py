"""docs/scaling.md: its tables are the output of scripts/scaling_tables.py (no number typed by hand), and the GPU
figures are the ones the performance arithmetic states (~1,000 products/s and 3–4 reranked queries/s per GPU)."""

from __future__ import annotations

from scripts import scaling_tables as t
from tests.deploy.manifests import REPO_ROOT

DOC = REPO_ROOT / "docs" / "scaling.md"


def test_the_tables_are_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert t.render(text) == text, "run: python scripts/scaling_tables.py --write docs/scaling.md"
    for name in t.SECTIONS:
        assert f"<!-- scaling:{name}:start -->" in text


def test_the_gpu_arithmetic_matches_the_stated_figures() -> None:
    assert t.EMBED_TOKENS * t.FLOP_PER_TOKEN == 0.32e12                    # 0.32 TFLOP per product
    assert 900 <= t.products_per_gpu_s() <= 1200                          # "≈ 1,000 products/s per GPU"
    assert t.RERANK_CANDIDATES * t.RERANK_PAIR_TOKENS * t.FLOP_PER_TOKEN == 96e12   # 96 TFLOP per query
    assert 3 <= t.reranks_per_gpu_s() <= 4                                # "3–4 queries/s per GPU"
    assert 0.30 <= t.GPU_UTILISATION <= 0.40


def test_the_memory_figures_follow_from_the_layouts() -> None:
    layouts = {layout.name: layout for layout in t.LAYOUTS}
    assert layouts["HNSW, 1024-d float32"].dense_bytes == 4096 + t.hnsw_graph_bytes()
    assert layouts["HNSW, 512-d float32 (MRL)"].dense_bytes == 2048 + t.hnsw_graph_bytes()
    assert layouts["HNSW_SQ8, 1024-d"].dense_bytes == 1024 + t.hnsw_graph_bytes()
    assert 128 < t.hnsw_graph_bytes() < 140
    assert "| HNSW, 1024-d float32 | 4,232 + 2,048 B | dense 4.2 GB" in t.memory_table()
