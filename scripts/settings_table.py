"""Print the README's settings table from ``catalog.settings.Settings`` (a test checks the README matches)."""

from __future__ import annotations

from catalog.settings import Settings


def settings_table() -> str:
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, tuple):
            default = ",".join(default)
        shown = "" if default in ("", None) else str(default).replace("\n", "\\n")
        rows.append(f"| `CATALOG_{name.upper()}` | `{shown}` | {field.description or ''} |".replace("``", "—"))
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
