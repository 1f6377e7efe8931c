"""The staff web app (plain ES modules and Web Components), served by the hub at /console."""

from __future__ import annotations

from pathlib import Path

# The languages the console is translated into; ``static/i18n/<code>.json`` exists for each.
from contract.languages import CONSOLE_LANGUAGES

__all__ = ["CONSOLE_LANGUAGES", "static_dir"]


def static_dir() -> Path:
    """The directory holding the console's files (``index.html`` and what it loads)."""
    return Path(__file__).resolve().parent / "static"
