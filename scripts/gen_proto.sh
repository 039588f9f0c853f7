#!/usr/bin/env bash
# Regenerate the committed gRPC/protobuf code of retrieve/proto/search.proto (run from anywhere).
# The proto is compiled at its import path inside the package root (catalog_search/retrieve/proto/search.proto, in a
# scratch include tree), so the generated import is `from catalog_search.retrieve.proto import search_pb2` and the
# proto package (catalog.search.v1) never becomes a Python import path.
# tests/retrieve/test_proto.py fails when the committed files differ from a fresh generation.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}"
OUT_DIR="${1:-retrieve/proto}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/catalog_search/retrieve/proto"
cp retrieve/proto/search.proto "$scratch/catalog_search/retrieve/proto/"
"$PYTHON" -m grpc_tools.protoc -I "$scratch" --python_out="$scratch" --grpc_python_out="$scratch" --pyi_out="$scratch" \
    catalog_search/retrieve/proto/search.proto
mkdir -p "$OUT_DIR"
cp "$scratch"/catalog_search/retrieve/proto/search_pb2*.py* "$OUT_DIR"/
echo "generated $OUT_DIR/search_pb2.py, search_pb2.pyi, search_pb2_grpc.py"
