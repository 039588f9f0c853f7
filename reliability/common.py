"""What the reliability parts share: the command line, the result file, waiting, the embedded stack.

Each part is ``reliability/<part>.py`` with

* ``PART`` (its key in docs/reliability.json) and ``TITLE`` (its heading in docs/reliability.md);
* ``run(quick: bool = False, **sizes) -> dict``: runs the part on real servers and returns a JSON-able dict with
  ``passed`` (bool), ``checks`` (a list of ``{"name", "passed", "detail"}``) and the figures the page shows;
  the fast tests in ``tests/reliability`` call it with small sizes and assert on what it returns;
* ``render(result: dict) -> str``: the part's Markdown body (tables, figures) for the page;
* ``main()``: ``python reliability/<part>.py [--quick] [--json PATH]`` via ``part_main``;
* optionally ``PLOT`` (a file name in docs/) and ``plot(result, path)``: a figure the page links to.

``reliability/run_all.py`` (``make reliability``) runs each part as its own process and writes the page.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from catalog_search.app.localstack import LocalStack  # noqa: E402
from catalog_search.app.localstack.stack import TANSU_SESSION_TIMEOUT_MS  # noqa: E402


def check(name: str, passed: bool, detail: str = "") -> dict[str, Any]:
    return {"name": name, "passed": bool(passed), "detail": detail}


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with ``passed`` = every check passed (and at least one check)."""
    checks = result.get("checks") or []
    return {**result, "passed": bool(checks) and all(c["passed"] for c in checks)}


def wait_until(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.2) -> bool:
    """Poll ``condition`` (exceptions count as not yet) until true or ``timeout_s``; True when it came true."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(Exception):
            if condition():
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


@contextlib.contextmanager
def embedded_stack(prefix: str = "reliability-") -> Iterator[LocalStack]:
    """A fresh Tansu broker + Milvus Lite server on free ports in a temporary folder, stopped at the end."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        stack = LocalStack(Path(tmp) / "stack")
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()


FAST_GROUP_ENV = {"CATALOG_KAFKA_SESSION_TIMEOUT_MS": str(TANSU_SESSION_TIMEOUT_MS)}


def part_main(run: Callable[..., dict[str, Any]], argv: list[str] | None = None,
              add_args: Callable[[argparse.ArgumentParser], None] | None = None, doc: str | None = None) -> int:
    """The command line of a part: ``--quick``, ``--json PATH`` and the part's own flags (passed to ``run``)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (what make test runs)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write the result dict to PATH")
    if add_args is not None:
        add_args(parser)
    args = vars(parser.parse_args(argv))
    json_path = args.pop("json")
    started = time.monotonic()
    result = run(**{k: v for k, v in args.items() if v is not None})
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    text = json.dumps(result, indent=2, sort_keys=True, default=str)
    print(text)
    if json_path is not None:
        json_path.write_text(text, encoding="utf-8")
    return 0 if result.get("passed") else 1
