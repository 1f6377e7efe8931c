"""The console's static files: catalogs complete in every language, references that resolve."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import pytest

from agent_console import CONSOLE_LANGUAGES, static_dir
from agent_console.sounds import SAMPLE_RATE, main, ring_path, ring_samples, ring_wav

STATIC = static_dir()
SCRIPTS = sorted((STATIC / "js").rglob("*.js"))
# t('key'), t("key", …) and data-i18n="key" in the console's code; keys built at run time
# (``step.error.${code}``) are checked below against the codes the hub and cabin send.
KEY_USE = re.compile(
    r"""\bt\(\s*['"]([a-z0-9_.@]+)['"]|data-i18n(?:-\w+)?=["']([a-z0-9_.@]+)["']"""
)
KEY_PREFIXES = re.compile(r"""\bt\(\s*`([a-z0-9_.]+)\$\{""")


def catalog(language: str) -> dict[str, str]:
    data = json.loads((STATIC / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*SCRIPTS, STATIC / "index.html"]:
        for match in KEY_USE.finditer(path.read_text(encoding="utf-8")):
            keys.add(match.group(1) or match.group(2))
    return keys


def test_every_language_has_a_catalog_with_the_same_keys() -> None:
    reference = set(catalog("en"))
    assert len(reference) > 200
    for language in CONSOLE_LANGUAGES:
        keys = set(catalog(language))
        assert keys - reference == set(), f"{language} has keys English lacks"
        assert reference - keys == set(), f"{language} misses keys"


@pytest.mark.parametrize("language", CONSOLE_LANGUAGES)
def test_no_message_is_empty_or_left_in_another_language(language: str) -> None:
    messages = catalog(language)
    english = catalog("en")
    assert all(isinstance(text, str) and text.strip() for text in messages.values())
    if language != "en":
        # Names and codes may be the same; a whole sentence left in English may not.
        same = [k for k, v in messages.items() if v == english[k] and len(v.split()) > 3]
        assert same == []


@pytest.mark.parametrize("language", CONSOLE_LANGUAGES)
def test_placeholders_match_english(language: str) -> None:
    english = catalog("en")
    for key, text in catalog(language).items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", english[key])), (
            key
        )


def test_every_key_the_code_uses_is_in_the_catalogs() -> None:
    keys = used_keys()
    assert {"ring.accept", "wrapup.close", "signin.submit"} <= keys
    missing = keys - set(catalog("en"))
    assert missing == set()


def test_keys_built_at_run_time_have_every_value_they_can_take() -> None:
    prefixes = set()
    for path in SCRIPTS:
        prefixes |= set(KEY_PREFIXES.findall(path.read_text(encoding="utf-8")))
    assert {"presence.", "step.kind.", "step.status.", "language.", "ended.", "tools."} <= prefixes
    messages = catalog("en")
    expected = {
        "presence.": ["available", "away", "ringing", "in_call", "wrap_up", "offline"],
        "step.kind.": ["scan", "print_a4", "print_receipt", "sign", "show_info"],
        "step.status.": ["requested", "accepted", "progress", "done", "failed", "declined"],
        "language.": ["es", "ca", "ca@valencia", "eu", "gl", "en"],
        "ended.": ["cabin_lost", "cancelled", "transferred", "agent_offline", "citizen_hangup"],
        "step.error.": ["paper_out", "jammed", "cover_open", "no_document", "missing", "busy"],
        "identity.method.": ["document_on_camera", "electronic_id", "clave", "known_to_agent"],
        "cabin.activity.": ["offline", "idle", "waiting", "ringing", "in_call"],
        "documents.kind.": ["scan", "signed", "print", "sign"],
        "quality.": ["good", "fair", "poor", "none"],
        "tools.": ["print_a4", "print_receipt", "sign", "info"],
    }
    for prefix, values in expected.items():
        assert [v for v in values if prefix + v not in messages] == [], prefix


def test_index_loads_only_files_that_exist() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    references = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert "js/main.js" in references and "css/console.css" in references
    for reference in references:
        assert (STATIC / reference).is_file(), reference


def test_imports_between_modules_resolve() -> None:
    for path in SCRIPTS:
        for target in re.findall(
            r"""^import .*?['"](\.{1,2}/[^'"]+)['"];""", path.read_text(), re.M
        ):
            assert (path.parent / target).resolve().is_file(), f"{path.name} imports {target}"


def test_no_code_writes_html_strings() -> None:
    # The CSP requires Trusted Types: an innerHTML assignment would throw in the browser.
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8")
        assert not re.search(
            r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", text
        )
        assert "eval(" not in text and "new Function" not in text


def test_shipped_ring_tone_is_what_the_generator_makes() -> None:
    assert ring_path().read_bytes() == ring_wav()


def test_ring_tone_is_a_short_mono_wav_that_never_clips() -> None:
    with wave.open(str(ring_path()), "rb") as sound:
        assert sound.getnchannels() == 1
        assert sound.getsampwidth() == 2
        assert sound.getframerate() == SAMPLE_RATE
        assert 1.0 <= sound.getnframes() / SAMPLE_RATE <= 3.0
    samples = ring_samples()
    assert max(abs(s) for s in samples) < 32767
    # It starts and ends quietly, so looping it does not click.
    assert abs(samples[0]) < 100 and abs(samples[-1]) < 100


def test_sound_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "sounds" / "ring.wav"
    assert main(["--output", str(out)]) == 0
    assert out.read_bytes() == ring_wav()
