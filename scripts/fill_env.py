"""Fill the empty credentials of a compose ``.env`` with random values (``secrets.token_urlsafe``).

    cp .env.example .env && python3 scripts/fill_env.py .env

Only ``KEY=`` lines with an empty value whose key is a credential (``*_PASSWORD``, ``*_KEY``, ``*_USER``) are
filled; everything else (comments, optional keys such as ``HF_TOKEN``, values already set) is kept as it is. Values
are URL-safe (letters, digits, ``-``, ``_``): nothing compose, MinIO or a Milvus token would need to escape.
"""

from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path

CREDENTIAL = re.compile(r"^(?P<key>[A-Z0-9_]*(?:_PASSWORD|_KEY|_USER))=$")


def fill(text: str) -> tuple[str, list[str]]:
    """``text`` with its empty credentials filled, and the keys that were filled."""
    filled, out = [], []
    for line in text.splitlines():
        match = CREDENTIAL.match(line.strip())
        if match:
            key = match["key"]
            value = f"catalog-{secrets.token_hex(4)}" if key.endswith("_USER") else secrets.token_urlsafe(24)
            line = f"{key}={value}"
            filled.append(key)
        out.append(line)
    return "\n".join(out) + "\n", filled


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    path = Path(argv[0])
    text, filled = fill(path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    print(f"{path}: filled {', '.join(filled) or 'nothing (every credential already set)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
