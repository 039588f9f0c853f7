"""The vLLM server arguments of both models, read from ``deploy/vllm.toml`` (the one source; see its header).

    python scripts/vllm_flags.py embed      # the `vllm serve` arguments of the embedding server, shell-quoted
    python scripts/vllm_flags.py rerank --json
"""

from __future__ import annotations

import json
import shlex
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parents[1] / "deploy" / "vllm.toml"


@dataclass(frozen=True)
class VllmServer:
    name: str                   # "embed" | "rerank"
    model: str                  # Hugging Face id; also the served model name
    port: int
    runner: str
    max_model_len: int
    hf_overrides: dict[str, Any]

    def model_flags(self, *, max_model_len: int | None = None) -> list[str]:
        """What makes this model serve as it should (runner, overrides, context): the same in tests and production."""
        return ["--runner", self.runner, "--hf-overrides", json.dumps(self.hf_overrides),
                "--max-model-len", str(max_model_len or self.max_model_len)]

    def serve_args(self) -> list[str]:
        """Arguments after ``vllm serve`` in production (compose, Kubernetes)."""
        return [self.model, "--served-model-name", self.model, *self.model_flags(),
                "--host", "0.0.0.0", "--port", str(self.port)]


def load(path: Path = SOURCE) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def image(path: Path = SOURCE) -> str:
    return str(load(path)["image"])


def servers(path: Path = SOURCE) -> dict[str, VllmServer]:
    return {name: VllmServer(name=name, model=spec["model"], port=int(spec["port"]), runner=spec["runner"],
                             max_model_len=int(spec["max_model_len"]), hf_overrides=dict(spec["hf_overrides"]))
            for name, spec in load(path)["servers"].items()}


def server(name: str) -> VllmServer:
    found = servers()
    if name not in found:
        raise KeyError(f"no vLLM server {name!r} in {SOURCE.name} (have {sorted(found)})")
    return found[name]


if __name__ == "__main__":
    args = server(sys.argv[1] if len(sys.argv) > 1 else "embed").serve_args()
    print(json.dumps(args) if "--json" in sys.argv else shlex.join(["vllm", "serve", *args]))
