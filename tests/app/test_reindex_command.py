"""``catalog-search reindex`` argument and settings edges that need no backend: each exits 2 with a clear message."""

from __future__ import annotations

import argparse

import pytest

from catalog_search.app.cli import build_parser, main
from catalog_search.core.settings import load_settings
from catalog_search.app.reindex_command import new_settings


@pytest.fixture
def judged(tmp_path):
    queries, qrels = tmp_path / "queries.tsv", tmp_path / "qrels.tsv"
    queries.write_text("q1\tcordless drill\n", encoding="utf-8")
    qrels.write_text("q1\tEN-TLS-0002\t3\n", encoding="utf-8")
    return ["--queries", str(queries), "--qrels", str(qrels)]


@pytest.fixture(autouse=True)
def unreachable_backends(monkeypatch):
    """Every case below must be refused before any backend is contacted."""
    monkeypatch.setenv("CATALOG_MILVUS_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("CATALOG_KAFKA_BOOTSTRAP", "127.0.0.1:9")
    monkeypatch.setenv("CATALOG_MILVUS_TIMEOUT_S", "1")
    monkeypatch.setenv("CATALOG_EMBED_BACKEND", "local")
    monkeypatch.delenv("CATALOG_EMBED_DIM", raising=False)


@pytest.mark.parametrize("extra, message", [
    ([], "the gate needs --queries and --qrels"),
    (["--skip-gate", "--no-swap", "--follow"], "--follow and --drop-old need the swap"),
    (["--skip-gate", "--no-kafka", "--follow"], "cannot go with --no-kafka"),
    (["--skip-gate", "--max-drop", "-0.1"], "--max-drop must be >= 0"),
    (["--skip-gate", "--embed-dim", "256"], "CATALOG_EMBED_DIM must be 384"),
    (["--skip-gate", "--to", "bad-name"], "invalid Milvus collection name"),
])
def test_bad_arguments_exit_2(extra, message, capsys):
    args = ["reindex", "--to", "catalog_products_v2", *extra]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_skip_gate_and_a_judged_set_exclude_each_other(judged, capsys):
    assert main(["reindex", "--to", "v2", "--skip-gate", *judged]) == 2
    assert "exclude each other" in capsys.readouterr().err


def test_malformed_judged_set_names_file_and_line(tmp_path, judged, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("q1\tEN-TLS-0002\tvery\n", encoding="utf-8")
    assert main(["reindex", "--to", "v2", "--queries", judged[1], "--qrels", str(bad)]) == 2
    assert f"{bad}:1: grade must be an integer" in capsys.readouterr().err


def test_missing_files_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reindex", "--to", "v2", "--queries", "/no/such.tsv", "--qrels", "/no/such.tsv"])
    assert exc.value.code == 2 and "no such file" in capsys.readouterr().err


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["reindex", *argv])


def test_new_settings_change_only_what_the_options_say():
    live = load_settings(embed_backend="openai", embed_dim=1024, embed_model="Qwen/Qwen3-Embedding-4B",
                         milvus_collection="v1")
    same_model = new_settings(live, _args("--to", "v2", "--index", "IVF_FLAT"))
    assert (same_model.milvus.collection, same_model.milvus.index, same_model.embed.vector_dim, same_model.embed.model) == \
        ("v2", "IVF_FLAT", 1024, "Qwen/Qwen3-Embedding-4B")
    assert same_model.milvus.alias == live.milvus.alias and same_model.kafka.group == live.kafka.group
    smaller = new_settings(live, _args("--to", "v2", "--embed-dim", "256"))
    assert smaller.embed.vector_dim == 256
    local = new_settings(live, _args("--to", "v2", "--embed-backend", "local"))   # the live 1024 does not follow
    assert (local.embed.backend, local.embed.vector_dim) == ("local", 384)
    analyzed = new_settings(live, _args("--to", "v2", "--bm25-analyzer", "multilingual"))
    assert (analyzed.milvus.bm25_analyzer, analyzed.embed.vector_dim, live.milvus.bm25_analyzer) == ("multilingual", 1024, "english")


def test_the_report_says_what_happened_and_what_to_do_next():
    from catalog_search.ingest.reindex.plan import GateResult
    from catalog_search.ingest.reindex.build import BuildResult
    from catalog_search.app.reindex_command import report
    from catalog_search.ingest.reindex.run import ReindexResult

    result = ReindexResult(alias="catalog_products", old="v1", new="v2", group="catalog-ingest-v2",
                           vectors="copying stored vectors (same model e5, dim 384, same embedded text)",
                           build=BuildResult("collection v1", rows=321, copied_vectors=320, seconds=2.5),
                           catch_up={"events": 3, "patched": 2}, swapped=True,
                           gate=GateResult({"ndcg@10": 0.7, "queries": 8}, {"ndcg@10": 0.71, "queries": 8}, 0.0),
                           next_steps=["point the ingest workers at the new collection"])
    text = report(result)
    assert text.splitlines()[0] == "reindex catalog_products: v1 -> v2"
    assert "build: 321 rows from collection v1; 320 vectors copied, 0 texts embedded, 0 rejected, 2.5s" in text
    assert "catch-up (group catalog-ingest-v2): events=3 patched=2" in text
    assert "gate passed: nDCG@10 0.7000 -> 0.7100 (+0.0100, allowed drop 0) on 8 judged queries" in text
    assert "swapped: alias catalog_products -> v2" in text and "  - point the ingest workers" in text
    assert result.as_dict()["gate"]["passed"] is True and not result.gate_failed
