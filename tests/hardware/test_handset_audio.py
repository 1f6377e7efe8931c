"""Finding the sound card a handset is wired to, from ALSA's card list."""

from __future__ import annotations

from pathlib import Path

from hardware.handset.audio import AlsaCard, list_alsa_cards, parse_cards, usb_cards

# /proc/asound/cards of a cabin PC with a USB handset.
CARDS = """\
 0 [PCH            ]: HDA-Intel - HDA Intel PCH
                      HDA Intel PCH at 0xf7f10000 irq 32
 1 [Handset        ]: USB-Audio - USB Handset
                      Cabina USB Handset at usb-0000:00:14.0-2, full speed
 2 [HDMI           ]: HDA-Intel - HDA Intel HDMI
                      HDA Intel HDMI at 0xf7f14000 irq 33
"""


def test_cards_are_read_with_their_description() -> None:
    cards = parse_cards(CARDS)

    assert [(c.index, c.id, c.driver, c.name) for c in cards] == [
        (0, "PCH", "HDA-Intel", "HDA Intel PCH"),
        (1, "Handset", "USB-Audio", "USB Handset"),
        (2, "HDMI", "HDA-Intel", "HDA Intel HDMI"),
    ]
    assert cards[1].description == "Cabina USB Handset at usb-0000:00:14.0-2, full speed"


def test_the_usb_card_is_the_handset_candidate() -> None:
    (handset,) = usb_cards(parse_cards(CARDS))

    assert handset.device == "plughw:CARD=Handset,DEV=0"


def test_a_machine_without_sound_cards() -> None:
    assert parse_cards("--- no soundcards ---\n") == []


def test_a_machine_without_alsa(tmp_path: Path) -> None:
    assert list_alsa_cards(tmp_path / "no-asound" / "cards") == []


def test_the_cards_file_is_read(tmp_path: Path) -> None:
    cards_file = tmp_path / "cards"
    cards_file.write_text(CARDS, encoding="utf-8")

    assert list_alsa_cards(cards_file)[1] == AlsaCard(
        1,
        "Handset",
        "USB-Audio",
        "USB Handset",
        "Cabina USB Handset at usb-0000:00:14.0-2, full speed",
    )
