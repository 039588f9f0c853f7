"""Headless Chromium for the browser tests and bench/ui.py: Debian's ``chromium`` package (``make browser``
installs it), driven by Playwright with ``executable_path`` — Playwright's own browser download is never used.

``chromium_path()`` is ``$CATALOG_CHROMIUM`` or ``chromium`` on PATH; missing, it raises ``BrowserMissing`` with
the fix (the tests fail with it: a browser test must not pass vacuously).
"""

from __future__ import annotations

import os
import shutil
from typing import Any

HINT = ("install Debian's chromium: `make browser` (apt-get install chromium), or point CATALOG_CHROMIUM at a "
        "Chromium binary")


class BrowserMissing(RuntimeError):
    pass


def chromium_path() -> str:
    explicit = os.environ.get("CATALOG_CHROMIUM")
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise BrowserMissing(f"CATALOG_CHROMIUM={explicit} is not an executable file; {HINT}")
        return explicit
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise BrowserMissing(f"no chromium on PATH; {HINT}")
    return found


def launch(playwright: Any) -> Any:
    """A headless Chromium browser (``--no-sandbox``: tests run as root in CI)."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                      args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
