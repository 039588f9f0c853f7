"""The README's settings table is generated from the Settings model; it must not drift."""

from pathlib import Path

from scripts.settings_table import settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_matches_settings():
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- settings-table:start -->") + len("<!-- settings-table:start -->")
    end = text.index("<!-- settings-table:end -->")
    assert text[start:end].strip() == settings_table(), "run: python scripts/settings_table.py and paste into README"


def test_readme_names_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
