"""The console's words for appointments: every refusal code, channel and status the hub may
send has a text in each language, with the same keys everywhere."""

from __future__ import annotations

import json

import pytest

from agent_console import CONSOLE_LANGUAGES, static_dir
from contract.appointments import REFUSAL_CODES, AppointmentStatus, Channel
from contract.languages import CITIZEN_LANGUAGES


def catalog(language: str) -> dict[str, str]:
    data = json.loads((static_dir() / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("language", CONSOLE_LANGUAGES)
def test_every_refusal_channel_and_status_has_words(language: str) -> None:
    messages = catalog(language)
    expected = [f"booking.refusal.{code}" for code in REFUSAL_CODES]
    expected += [f"channel.{channel.value}" for channel in Channel]
    expected += [f"appointment.status.{status.value}" for status in AppointmentStatus]
    expected += [f"language.{code}" for code in CITIZEN_LANGUAGES]
    assert [key for key in expected if not messages.get(key, "").strip()] == []


def test_the_appointment_keys_are_the_same_in_every_language() -> None:
    prefixes = ("agenda.", "booking.", "appointment.", "appointments.", "channel.", "nav.")
    keys = {
        language: {key for key in catalog(language) if key.startswith(prefixes)}
        for language in CONSOLE_LANGUAGES
    }
    assert len(keys["en"]) > 90
    assert all(found == keys["en"] for found in keys.values())


def test_the_booking_form_offers_every_language_a_citizen_can_choose() -> None:
    script = (static_dir() / "js" / "components" / "booking.js").read_text(encoding="utf-8")
    listed = script.split("export const CITIZEN_LANGUAGES = [", 1)[1].split("]", 1)[0]
    assert [item.strip().strip("'") for item in listed.split(",")] == list(CITIZEN_LANGUAGES)
    channels = script.split("export const CHANNELS = [", 1)[1].split("]", 1)[0]
    assert [item.strip().strip("'") for item in channels.split(",")] == [c.value for c in Channel]
