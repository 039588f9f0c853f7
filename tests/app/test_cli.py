"""Every input edge of the CLI says what is wrong (settings, arguments, files) and exits non-zero."""

from __future__ import annotations

import subprocess
import sys


def run(*args, env=None):
    import os
    return subprocess.run([sys.executable, "-m", "catalog_search.app.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_invalid_setting_names_the_variable():
    done = run("stats", env={"CATALOG_BATCH_MAX_EVENTS": "lots"})
    assert done.returncode == 2
    assert "CATALOG_BATCH_MAX_EVENTS" in done.stderr and "valid integer" in done.stderr


def test_local_backend_rejects_a_dimension_it_cannot_produce():
    done = run("stats", env={"CATALOG_EMBED_BACKEND": "local", "CATALOG_EMBED_DIM": "1024"})
    assert done.returncode == 2 and "CATALOG_EMBED_DIM must be 384" in done.stderr


def test_unknown_backend_is_a_config_error():
    done = run("stats", env={"CATALOG_EMBED_BACKEND": "magic"})
    assert done.returncode == 2 and "CATALOG_EMBED_BACKEND" in done.stderr


def test_bad_arguments_are_explained():
    assert "must be > 0" in run("ingest", "kafka", "--until-idle", "-1").stderr
    missing = run("ingest", "file", "/no/such/file.jsonl")
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_unreachable_milvus_is_a_transient_backend_error(tmp_path):
    done = run("stats", env={"CATALOG_MILVUS_URI": "http://127.0.0.1:9", "CATALOG_MILVUS_TIMEOUT_S": "1"})
    assert done.returncode == 1
    assert "transient" in done.stderr and "milvus" in done.stderr.lower()


def test_eval_needs_a_judged_set_or_a_replay_file(tmp_path):
    done = run("eval", "--queries", "/no/such/queries.tsv")
    assert done.returncode == 2 and "no such file" in done.stderr
    done = run("eval", "--config", "bm25")
    assert done.returncode == 2 and "--products, --queries, --qrels (or --replay FILE)" in done.stderr
    bad = tmp_path / "log.jsonl"
    bad.write_text('{"v": 1, "query": "q"}\n', encoding="utf-8")
    done = run("eval", "--replay", str(bad))
    assert done.returncode == 1 and f"{bad}:1: not a query-log record" in done.stderr
    done = run("eval", "--replay", str(bad), "--qrels", str(bad))
    assert done.returncode == 2 and "takes no judged set" in done.stderr
