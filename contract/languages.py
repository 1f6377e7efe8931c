"""The languages Cabina speaks: what a citizen can choose, and those of the agent console."""

from __future__ import annotations

from typing import Literal, get_args

#: A language a citizen can choose, as a gettext code (Valencian is ``ca@valencia``).
Language = Literal["es", "ca", "ca@valencia", "eu", "gl", "en"]
#: A language of the agent console.
ConsoleLanguage = Literal["es", "ca", "eu", "en"]

#: Languages a citizen can choose at the cabin, in the order the language screen shows them.
CITIZEN_LANGUAGES: tuple[Language, ...] = get_args(Language)
#: Languages of the agent console.
CONSOLE_LANGUAGES: tuple[ConsoleLanguage, ...] = get_args(ConsoleLanguage)
#: The language of the message ids.
SOURCE_LANGUAGE: Language = "en"
