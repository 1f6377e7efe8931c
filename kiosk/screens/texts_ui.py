"""Texts that only the screens show (button words, hints), in the ``kiosk_ui`` gettext domain.

The citizen's texts that belong to the flow live in :mod:`kiosk.texts`; these are the words of
the views themselves. Python code marks a message with :func:`ui_text`,
``.kv`` rules call ``app.tr("…", app.lang)``; ``tests/kiosk/test_ui_catalogs.py`` collects both
and fails when a catalog misses one.
"""

from __future__ import annotations

from cabina.i18n import translations

DOMAIN = "kiosk_ui"
PACKAGE = "kiosk.screens"


def ui_text(message: str) -> str:
    """Mark ``message`` for the ``kiosk_ui`` catalogs; it is translated when shown."""
    return message


def translate(message: str, lang: str) -> str:
    """``message`` in ``lang``."""
    return translations(PACKAGE, DOMAIN, lang).gettext(message)
