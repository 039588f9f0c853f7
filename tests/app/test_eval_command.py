"""``catalog-search eval`` end to end on Milvus Lite: a tiny judged set from the sample catalog, local embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog_search.app.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "app" / "data" / "sample_catalog.jsonl"
SKUS = [
    "EN-APP-0001", "EN-APP-0003", "EN-APP-0005", "EN-APP-0007", "EN-APP-0009", "EN-APP-0011", "EN-APP-0013",
    "EN-APP-0015", "EN-APP-0017", "EN-APP-0019", "EN-APP-0021", "EN-ELE-0002", "EN-ELE-0004", "EN-ELE-0006",
    "EN-ELE-0008", "EN-ELE-0010", "EN-ELE-0012", "EN-ELE-0014", "EN-ELE-0016", "EN-ELE-0018", "EN-HOM-0001",
    "EN-HOM-0003", "EN-HOM-0005", "EN-HOM-0007", "EN-HOM-0009", "EN-HOM-0011", "EN-HOM-0013", "EN-TLS-0002",
    "EN-TLS-0004", "EN-TLS-0006",
]
QUERIES = {
    "q1": "black sneakers", "q2": "noise cancelling headphones", "q3": "laptop for students", "q4": "coffee maker",
    "q5": "cordless drill", "q6": "insulated water cup", "q7": "warm winter jacket", "q8": "phone",
    "q9": "garden hose",                           # judged, but nothing relevant: left out of the means
}
QRELS = {
    "q1": {"EN-APP-0015": 3, "EN-APP-0017": 3, "EN-APP-0019": 2, "EN-APP-0001": 0},
    "q2": {"EN-ELE-0006": 3, "EN-ELE-0008": 2},
    "q3": {"EN-ELE-0010": 3, "EN-ELE-0012": 3, "EN-ELE-0014": 0},
    "q4": {"EN-HOM-0001": 3},
    "q5": {"EN-TLS-0002": 3, "EN-TLS-0004": 1},
    "q6": {"EN-HOM-0011": 3, "EN-HOM-0013": 3},
    "q7": {"EN-APP-0007": 3, "EN-APP-0011": 1},
    "q8": {"EN-ELE-0002": 3, "EN-ELE-0004": 3, "EN-ELE-0016": 1},
    "q9": {"EN-HOM-0009": 0},
}
@pytest.fixture
def judged_set(tmp_path: Path) -> dict[str, Path]:
    rows = {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("sku") in SKUS and record.get("op") == "upsert":
            rows[record["sku"]] = {"sku": record["sku"], "title": record["title"]}   # plain product records
    assert len(rows) == len(SKUS)
    paths = {"products": tmp_path / "products.jsonl", "queries": tmp_path / "queries.tsv",
             "qrels": tmp_path / "qrels.tsv"}
    paths["products"].write_text("".join(json.dumps(rows[s]) + "\n" for s in SKUS), encoding="utf-8")
    paths["queries"].write_text("".join(f"{q}\t{t}\n" for q, t in QUERIES.items()), encoding="utf-8")
    paths["qrels"].write_text("".join(f"{q}\t{s}\t{g}\n" for q, j in QRELS.items() for s, g in j.items()),
                              encoding="utf-8")
    return paths


def test_eval_cli_outputs_and_gate(milvus_server, judged_set, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CATALOG_MILVUS_URI", milvus_server.uri)
    monkeypatch.setenv("CATALOG_EMBED_BACKEND", "local")
    monkeypatch.setenv("CATALOG_RERANK_BACKEND", "none")
    base = ["eval", "--products", str(judged_set["products"]), "--queries", str(judged_set["queries"]),
            "--qrels", str(judged_set["qrels"]), "--no-progress"]
    out = tmp_path / "report"

    assert main([*base, "--json", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    for name in ("report.md", "results.json", "metrics.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads((out / "results.json").read_text())
    assert results["meta"]["unjudged"] == "non-relevant" and results["meta"]["reused"] is False
    assert set(results["configs"]) == {"bm25", "dense", "hybrid-rrf", "default", *(
        f"hybrid-weighted-a{a}" for a in ("0.2", "0.3", "0.35", "0.4", "0.5", "0.7"))}
    assert printed["configs"].keys() == results["configs"].keys()
    for name, config in results["configs"].items():
        assert config["queries"] == 8, name                       # q9 has no relevant judgment
        for metric in ("ndcg@10", "recall@100", "mrr@10"):
            assert 0.0 <= config[metric] <= 1.0, (name, metric)
        assert config["latency_ms"]["total"]["p50"] > 0
    assert "embed" not in results["configs"]["bm25"]["latency_ms"]
    assert "bm25" not in results["configs"]["dense"]["latency_ms"]
    as_tuple = {n: tuple(c[m] for m in ("ndcg@10", "recall@100", "mrr@10")) for n, c in results["configs"].items()}
    assert as_tuple["bm25"] != as_tuple["dense"]
    assert results["configs"]["dense"]["recall@100"] == 1.0       # dense ranks all 30 products
    # "default" leaves fusion/alpha to the server: CATALOG_SEARCH_FUSION=weighted, CATALOG_SEARCH_ALPHA=0.35
    assert as_tuple["default"] == as_tuple["hybrid-weighted-a0.35"] != as_tuple["hybrid-rrf"]
    assert "server defaults (weighted min-max, alpha(dense)=0.35)" in results["configs"]["default"]["description"]
    report = (out / "report.md").read_text()
    assert "Unjudged results count as non-relevant" in report and "| `hybrid-rrf` |" in report

    gate = tmp_path / "baseline.json"
    gate.write_text(json.dumps({"configs": {"bm25": {"ndcg@10": 1.5}, "not-run": {"ndcg@10": 1.0}}}))
    quick = [*base, "--config", "bm25", "--config", "dense", "--baseline", str(gate), "--max-drop", "0.05"]
    assert main(quick) == 3                                        # collection reused, bm25 far below 1.5
    captured = capsys.readouterr()
    assert "regression: bm25" in captured.err and "| `dense` |" in captured.out
    gate.write_text(json.dumps({"configs": {"bm25": {"ndcg@10": 0.0}, "dense": {"ndcg@10": 0.0}}}))
    assert main([*quick, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["reused"] is True


def test_eval_cli_rejects_unknown_config(judged_set, capsys):
    args = ["eval", "--products", str(judged_set["products"]), "--queries", str(judged_set["queries"]),
            "--qrels", str(judged_set["qrels"]), "--config", "dense+rerank"]
    assert main(args) == 2
    assert "needs a reranker" in capsys.readouterr().err


def test_eval_cli_candidate_sweep_reports_and_plots_ndcg_per_depth(milvus_server, judged_set, tmp_path, capsys,
                                                                    monkeypatch):
    monkeypatch.setenv("CATALOG_MILVUS_URI", milvus_server.uri)
    monkeypatch.setenv("CATALOG_EMBED_BACKEND", "local")
    monkeypatch.setenv("CATALOG_RERANK_BACKEND", "none")
    out = tmp_path / "sweep"
    args = ["eval", "--products", str(judged_set["products"]), "--queries", str(judged_set["queries"]),
            "--qrels", str(judged_set["qrels"]), "--no-progress", "--config", "default",
            "--sweep-candidates", "20,10", "--out", str(out)]
    assert main(args) == 0
    assert "## nDCG@10 against candidate count (`default`)" in capsys.readouterr().out
    rows = json.loads((out / "results.json").read_text())["candidate_sweep"]
    assert [r["candidates"] for r in rows] == [10, 20]
    assert all(r["recall@100"] is None and 0.0 <= r["ndcg@10"] <= 1.0 for r in rows)
    assert (out / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit):
        main([*args[:-4], "--sweep-candidates", "5,20"])      # below 10: nDCG@10 needs 10 results
    assert "candidate counts must be between 10 and 1000" in capsys.readouterr().err


def test_eval_cli_rerank_rows_through_a_real_vllm_reranker(milvus_server, vllm_rerank_server, judged_set, capsys,
                                                           monkeypatch):
    """The +rerank path end to end on vLLM-CPU (a tiny random Qwen3: it proves the path, not relevance)."""
    monkeypatch.setenv("CATALOG_MILVUS_URI", milvus_server.uri)
    monkeypatch.setenv("CATALOG_EMBED_BACKEND", "local")
    monkeypatch.setenv("CATALOG_RERANK_BACKEND", "vllm")
    monkeypatch.setenv("CATALOG_RERANK_BASE_URL", vllm_rerank_server.base_url)
    monkeypatch.setenv("CATALOG_RERANK_MODEL", vllm_rerank_server.model)
    args = ["eval", "--products", str(judged_set["products"]), "--queries", str(judged_set["queries"]),
            "--qrels", str(judged_set["qrels"]), "--no-progress", "--json",
            "--config", "default", "--config", "default+rerank"]
    assert main(args) == 0
    configs = json.loads(capsys.readouterr().out)["configs"]
    plain, reranked = configs["default"], configs["default+rerank"]
    assert reranked["description"].endswith(", reranked") and reranked["degraded"] == 0
    assert "rerank" in reranked["latency_ms"] and reranked["queries"] == plain["queries"] == 8
    # a random model reorders the fused candidates: the metrics move (the same products come back, so Recall@100 not)
    assert (reranked["ndcg@10"], reranked["mrr@10"]) != (plain["ndcg@10"], plain["mrr@10"])
    assert reranked["recall@100"] == plain["recall@100"]
