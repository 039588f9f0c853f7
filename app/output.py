"""What the CLI prints for machines: one JSON object per line."""

from __future__ import annotations

import json


def print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=None, sort_keys=False))
