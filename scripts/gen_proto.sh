#!/usr/bin/env bash
# Regenerate the committed gRPC/protobuf code of retrieve/proto/search.proto (run from anywhere).
# Generated imports are `from retrieve.proto import search_pb2`: the proto is compiled with the repository root
# as its include path, so the proto package (catalog.search.v1) never becomes a Python import path.
# tests/retrieve/test_proto.py fails when the committed files differ from a fresh generation.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}"
"$PYTHON" -m grpc_tools.protoc -I . --python_out=. --grpc_python_out=. --pyi_out=. retrieve/proto/search.proto
echo "generated retrieve/proto/search_pb2.py, search_pb2.pyi, search_pb2_grpc.py"
