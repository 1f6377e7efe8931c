"""The simulator's ESC/POS parser, fed with the bytes python-escpos itself produces."""

from __future__ import annotations

import logging

import pytest
from escpos.printer import Dummy

from hardware.health import PaperLevel
from hardware.receipt_printer import escpos_status
from hardware.receipt_printer.simulator.parser import EscPosParser
from hardware.receipt_printer.simulator.printed import (
    PrintedImage,
    PrintedQr,
    Receipt,
    ReceiptBuilder,
)


class Paper:
    """A parser wired to a list of receipts and a printer state."""

    def __init__(self, paper: PaperLevel = PaperLevel.OK, cover_open: bool = False) -> None:
        self.receipts: list[Receipt] = []
        self.paper = paper
        self.cover_open = cover_open
        self.parser = EscPosParser(
            ReceiptBuilder(), status=self.status, on_receipt=self.receipts.append
        )

    def status(self, n: int) -> int | None:
        return escpos_status.encode(n, paper=self.paper, cover_open=self.cover_open)

    def feed(self, data: bytes) -> bytes:
        return self.parser.feed(data)


def dummy(profile: str = "TM-T88V", encoding: str = "CP858") -> Dummy:
    return Dummy(profile=profile, magic_encode_args={"encoding": encoding, "disabled": True})


def municipal_bytes() -> bytes:
    p = dummy()
    p.hw("INIT")
    p.magic.encoding = None
    p.charcode("CP858")
    p.set(align="center", bold=True, custom_size=True, width=2, height=2)
    p.textln("Ajuntament de València")
    p.set(align="left", bold=False, underline=1, custom_size=True, width=1, height=1)
    p.textln("Añorga · Txantxiki")
    p.set(underline=0)
    p.textln("Sol·licitud ¿Cita? 12,50 €")
    p.qr("https://seu.valencia.es/v?c=ABC123", native=True, size=5, ec=1)
    p.cut()
    return bytes(p.output)


def test_text_in_cp858_is_decoded_exactly_with_its_styles() -> None:
    paper = Paper()
    paper.feed(municipal_bytes())
    (receipt,) = paper.receipts
    assert receipt.texts == [
        "Ajuntament de València",
        "Añorga · Txantxiki",
        "Sol·licitud ¿Cita? 12,50 €",
    ]
    title = receipt.line("Ajuntament de València")
    assert title.bold and title.align == "center"
    assert (title.spans[0].style.width, title.spans[0].style.height) == (2, 2)
    middle = receipt.line("Añorga · Txantxiki")
    assert middle.spans[0].style.underline == 1 and not middle.bold
    assert receipt.qr_payloads == ["https://seu.valencia.es/v?c=ABC123"]
    qr = next(item for item in receipt.items if isinstance(item, PrintedQr))
    assert (qr.model, qr.module_size, qr.error_level) == (2, 5, "M")
    assert receipt.cut == "full"


def test_the_same_bytes_in_one_byte_chunks_give_the_same_receipt() -> None:
    whole, trickle = Paper(), Paper()
    data = municipal_bytes()
    whole.feed(data)
    for i in range(len(data)):
        trickle.feed(data[i : i + 1])
    assert trickle.receipts == whole.receipts
    assert trickle.parser.pending == 0


def test_print_mode_esc_bang_sets_bold_size_and_underline_together() -> None:
    paper = Paper()
    paper.feed(b"\x1b@\x1b!\xb8BIG\n\x1b!\x00small\n\x1dV\x01")
    (receipt,) = paper.receipts
    big, small = receipt.lines
    assert big.bold and big.spans[0].style.width == 2 and big.height == 2
    assert big.spans[0].style.underline == 1
    assert not small.bold and small.height == 1
    assert receipt.cut == "partial"


def test_init_resets_styles_and_code_page() -> None:
    paper = Paper()
    paper.feed(b"\x1bt\x13\x1bE\x01\x85\n\x1b@\x85\n\x1dV\x00")
    first, second = paper.receipts[0].lines
    assert (first.text, first.bold) == ("à", True)
    assert (second.text, second.bold) == ("à", False)  # CP437 has à at 0x85 too
    paper.feed(b"\x1b@\xd5\n\x1bt\x13\xd5\n\x1dV\x00")
    cp437, cp858 = paper.receipts[1].lines
    assert (cp437.text, cp858.text) == ("╒", "€")


def test_a_cut_ends_a_receipt_and_the_next_one_starts_empty() -> None:
    paper = Paper()
    p = dummy()
    p.textln("one")
    p.cut()
    p.textln("two")
    p.cut(mode="PART")
    paper.feed(bytes(p.output))
    assert [r.texts for r in paper.receipts] == [["one"], ["two"]]
    assert [r.cut for r in paper.receipts] == ["full", "partial"]


@pytest.mark.parametrize(
    ("paper_level", "cover_open", "expected"),
    [
        (PaperLevel.OK, False, b"\x12\x12\x12\x12"),
        (PaperLevel.NEAR_END, False, b"\x12\x12\x12\x1e"),
        (PaperLevel.OUT, False, b"\x1a\x32\x12\x7e"),
        (PaperLevel.OK, True, b"\x1a\x16\x12\x12"),
    ],
)
def test_dle_eot_answers_the_epson_status_bytes(
    paper_level: PaperLevel, cover_open: bool, expected: bytes
) -> None:
    paper = Paper(paper_level, cover_open)
    assert paper.feed(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04") == expected
    decoded = escpos_status.decode(*expected)
    assert decoded.paper is paper_level
    assert decoded.cover_open is cover_open
    assert decoded.online is (paper_level is not PaperLevel.OUT and not cover_open)


def test_python_escpos_masks_read_the_paper_bytes_as_we_write_them() -> None:
    from escpos.constants import RT_MASK_LOWPAPER, RT_MASK_NOPAPER

    out = escpos_status.encode(4, paper=PaperLevel.OUT, cover_open=False)
    near = escpos_status.encode(4, paper=PaperLevel.NEAR_END, cover_open=False)
    assert out is not None and near is not None
    assert out & RT_MASK_NOPAPER == RT_MASK_NOPAPER
    assert near & RT_MASK_LOWPAPER == RT_MASK_LOWPAPER
    assert near & RT_MASK_NOPAPER != RT_MASK_NOPAPER


def test_a_status_query_the_printer_does_not_know_gets_no_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    paper = Paper()
    with caplog.at_level(logging.WARNING):
        assert paper.feed(b"\x10\x04\x07") == b""
    assert "DLE EOT 7" in caplog.text


def test_garbage_is_skipped_and_logged_and_what_follows_still_prints(
    caplog: pytest.LogCaptureFixture,
) -> None:
    paper = Paper()
    garbage = bytes([0x01, 0x02, 0x1B, 0xFF, 0x1D, 0xFE, 0x1C, 0xF0, 0x10, 0x1F, 0x7F, 0x03])
    with caplog.at_level(logging.WARNING):
        paper.feed(garbage + b"\x1b@hola\n\x1dV\x00")
    assert paper.receipts[0].texts == ["hola"]
    assert "Skipped" in caplog.text
    assert "hola" not in caplog.text  # counts are logged, never content


def test_an_absurd_image_size_is_treated_as_garbage() -> None:
    paper = Paper()
    header = b"\x1dv0\x00\xff\xff\xff\xff"  # 65535 bytes × 65535 rows
    paper.feed(header + b"\x1b@after\n\x1dV\x00")
    assert paper.receipts[0].texts == ["after"]


def test_commands_without_a_drawing_are_skipped_by_their_length() -> None:
    p = dummy()
    p.barcode("4006381333931", "EAN13")
    p.cashdraw(2)
    p.buzzer(2, 1)
    p.line_spacing(40)
    p.control("HT", count=3, tab_size=8)
    p.panel_buttons(False)
    p.set(density=3, invert=True, flip=False, smooth=True)
    p.set(invert=False)
    p.textln("still here")
    p.cut()
    paper = Paper()
    paper.feed(bytes(p.output))
    assert paper.receipts[0].texts == ["still here"]


@pytest.mark.parametrize("impl", ["bitImageRaster", "graphics", "bitImageColumn"])
def test_images_are_kept_at_their_size(impl: str) -> None:
    from PIL import Image

    picture = Image.new("1", (40, 24), 1)
    picture.paste(0, (0, 0, 8, 24))  # an 8-dot black band on the left
    p = dummy()
    p.image(picture, impl=impl)
    p.cut()
    paper = Paper()
    paper.feed(bytes(p.output))
    images = [i for i in paper.receipts[0].items if isinstance(i, PrintedImage)]
    assert sum(i.height for i in images) == 24
    first = images[0]
    assert first.width >= 40
    row_bytes = (first.width + 7) // 8
    assert first.data[0] == 0xFF and first.data[1] == 0x00  # black band, then white
    assert len(first.data) == row_bytes * first.height


def test_an_unfinished_command_waits_for_its_tail() -> None:
    paper = Paper()
    qr = b"\x1d(k\x0a\x001P0abcdefg"
    paper.feed(qr[:6])
    assert paper.parser.pending == 6
    paper.feed(qr[6:] + b"\x1d(k\x03\x001Q0\x1dV\x00")
    assert paper.receipts[0].qr_payloads == ["abcdefg"]
