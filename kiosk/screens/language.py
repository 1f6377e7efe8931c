"""The language screen: each language in its own words, one big button each."""

from __future__ import annotations

from typing import Any

from kivy.properties import NumericProperty, StringProperty

from kiosk import texts
from kiosk.flow import Back, ChooseLanguage, Flow, State
from kiosk.screens.base import KioskScreen
from kiosk.screens.texts_ui import translate, ui_text
from kiosk.screens.widgets import BigButton

TITLE = texts.TITLES[State.LANGUAGE]
CANCEL = ui_text("Cancel")


def button_id(lang: str) -> str:
    """The kv id of the button for ``lang`` (``lang_ca_valencia`` for ``ca@valencia``)."""
    return "lang_" + lang.replace("@", "_")


class LanguageScreen(KioskScreen):
    """Asks which language to use."""

    titles = StringProperty("")
    cancel_text = StringProperty("")
    columns = NumericProperty(2)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[str, ...] = ()

    def render(self, flow: Flow) -> None:
        """One button per language the cabin offers; the title in all of them."""
        super().render(flow)
        languages = flow.config.languages
        lines: list[str] = []
        for lang in languages:
            text = texts.tr(TITLE, lang)
            if text not in lines:
                lines.append(text)
        self.titles = "  ·  ".join(lines)
        self.cancel_text = translate(CANCEL, flow.config.default_language)
        if languages != self._shown:
            self._build(languages)

    def _build(self, languages: tuple[str, ...]) -> None:
        grid = self.ids.choices
        grid.clear_widgets()
        for lang in languages:
            button = BigButton(
                text=texts.LANGUAGE_NAMES[lang], role="secondary", font_sp=40, min_dp=140
            )
            button.bind(on_release=lambda _b, code=lang: self.send(ChooseLanguage(code)))
            grid.add_widget(button)
            self.ids[button_id(lang)] = button
        self._shown = languages

    def cancel(self) -> None:
        """Leave without choosing."""
        self.send(Back())
