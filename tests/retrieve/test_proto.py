"""The committed generated code is exactly what protoc makes from retrieve/proto/search.proto (reproducible)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTO = "retrieve/proto/search.proto"
GENERATED = ("search_pb2.py", "search_pb2.pyi", "search_pb2_grpc.py")

pytest.importorskip("grpc_tools")


def _generate(out: Path) -> None:
    """What scripts/gen_proto.sh makes, written to ``out``."""
    subprocess.run(["bash", str(ROOT / "scripts" / "gen_proto.sh"), str(out)], cwd=ROOT, check=True,
                   capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHON": sys.executable})


def test_committed_generated_code_matches_a_fresh_generation(tmp_path: Path) -> None:
    _generate(tmp_path)
    for name in GENERATED:
        fresh = (tmp_path / name).read_text(encoding="utf-8")
        committed = (ROOT / "retrieve" / "proto" / name).read_text(encoding="utf-8")
        assert fresh == committed, f"retrieve/proto/{name} is stale or hand-edited: run scripts/gen_proto.sh " \
                                   "(with the grpcio-tools version pinned by the committed header)"


def test_generation_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        root = tmp_path / run
        _generate(root)
        outputs.append([(root / n).read_bytes() for n in GENERATED])
    assert outputs[0] == outputs[1]


def test_imports_are_repo_relative_and_never_the_proto_package() -> None:
    grpc_code = (ROOT / "retrieve" / "proto" / "search_pb2_grpc.py").read_text(encoding="utf-8")
    assert "from catalog_search.retrieve.proto import search_pb2" in grpc_code
    for name in GENERATED:
        text = (ROOT / "retrieve" / "proto" / name).read_text(encoding="utf-8")
        assert not re.search(r"^(import|from) catalog[ .]", text, re.M), name     # the proto package is no module


def test_descriptor_shape() -> None:
    from catalog_search.retrieve.proto import search_pb2 as pb
    service = pb.DESCRIPTOR.services_by_name["SearchService"]
    assert pb.DESCRIPTOR.package == "catalog.search.v1"
    assert service.full_name == "catalog.search.v1.SearchService"
    assert [m.name for m in service.methods] == ["Search", "Rerank"]
    rerank = service.methods_by_name["Rerank"]
    assert rerank.input_type.full_name == "catalog.search.v1.RerankRequest"
    assert rerank.output_type.full_name == "catalog.search.v1.RerankResponse"
    assert not pb.RerankRequest().HasField("instruction")
    search = service.methods_by_name["Search"]
    assert search.input_type.full_name == "catalog.search.v1.SearchRequest"
    assert search.output_type.full_name == "catalog.search.v1.SearchResponse"
    # presence is tracked where "unset" means something different from zero
    req, filters, scores = pb.SearchRequest(), pb.SearchFilters(), pb.StageScores()
    for msg, field in ((req, "rerank"), (req, "instruction"), (filters, "price_min"), (filters, "price_max"),
                       (scores, "dense"), (scores, "bm25"), (scores, "rerank")):
        assert not msg.HasField(field)
    resp = pb.SearchResponse()
    resp.timings_ms["embed"] = 1.5
    resp.models["reranker"] = "x"
    assert pb.SearchResponse.FromString(resp.SerializeToString()) == resp
