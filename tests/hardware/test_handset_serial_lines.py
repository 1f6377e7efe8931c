"""The serial handset's line format and the hook debouncer, without any port."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.handset.debounce import HookDebouncer
from hardware.handset.readings import HookReading, Identification, KeyReading
from hardware.handset.serial_lines import (
    MAX_LINE,
    LineDecoder,
    LineSplitter,
    hook_line,
    id_line,
    key_line,
    parse_line,
)


def test_lines_end_in_lf_crlf_or_cr() -> None:
    splitter = LineSplitter()

    assert splitter.feed(b"KEY 1\nKEY 2\r\nKEY 3\rKEY") == [b"KEY 1", b"KEY 2", b"KEY 3"]
    assert splitter.feed(b" 4\n") == [b"KEY 4"]


def test_a_line_split_across_reads_is_joined() -> None:
    decoder = LineDecoder()

    assert decoder.feed(b"HO") == []
    assert decoder.feed(b"OK OF") == []
    assert decoder.feed(b"F\r\n") == [HookReading(off_hook=True)]


def test_every_handset_line_is_understood() -> None:
    decoder = LineDecoder()

    readings = decoder.feed(
        b"ID HS1-000123 cabina-handset fw 1.2\r\nHOOK OFF\r\nKEY *\r\nKEY #\r\nKEY 0\r\nHOOK ON\r\n"
    )

    assert readings == [
        Identification("HS1-000123", "cabina-handset fw 1.2"),
        HookReading(off_hook=True),
        KeyReading("*"),
        KeyReading("#"),
        KeyReading("0"),
        HookReading(off_hook=False),
    ]
    assert decoder.ignored == 0


def test_what_the_simulator_sends_is_what_the_decoder_reads() -> None:
    decoder = LineDecoder()

    data = id_line("SIM-1") + hook_line(True) + key_line("7") + hook_line(False)

    assert decoder.feed(data) == [
        Identification("SIM-1"),
        HookReading(True),
        KeyReading("7"),
        HookReading(False),
    ]


@pytest.mark.parametrize(
    "line",
    [
        b"\xc3\x28 HOOK OFF",  # not UTF-8
        b"HOOK \xe2\x82\xac",  # UTF-8, but not ASCII
        b"\x00\x07HOOK OFF",  # control characters
        b"HOOK SIDEWAYS",
        b"KEY 10",
        b"KEY A",
        b"hook off",  # keywords are upper case
        b"ID",
        b"ID has/slash",
        b"FROB 12",
    ],
)
def test_unreadable_lines_are_ignored_with_a_log_line(
    line: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    decoder = LineDecoder()

    with caplog.at_level(logging.WARNING, logger="hardware.handset.serial_lines"):
        assert decoder.feed(line + b"\r\nKEY 2\r\n") == [KeyReading("2")]

    assert decoder.ignored == 1
    assert "Ignored" in caplog.text


def test_empty_lines_and_comments_are_ignored_silently(caplog: pytest.LogCaptureFixture) -> None:
    decoder = LineDecoder()

    with caplog.at_level(logging.DEBUG, logger="hardware.handset.serial_lines"):
        assert decoder.feed(b"\r\n\r\n   \r\n# firmware 1.2 booted\r\nKEY 3\n") == [KeyReading("3")]

    assert decoder.ignored == 0
    assert caplog.text == ""


def test_an_over_long_line_is_dropped_whole_and_the_next_line_read() -> None:
    decoder = LineDecoder()

    # The over-long line starts like a valid one: none of it may be taken.
    readings = decoder.feed(b"HOOK OFF" + b" " * (MAX_LINE * 3) + b"\r\nKEY 9\r\n")

    assert readings == [KeyReading("9")]
    assert decoder.ignored == 1


def test_a_line_of_exactly_the_maximum_length_is_accepted() -> None:
    decoder = LineDecoder()
    line = b"KEY 4".ljust(MAX_LINE, b" ")

    assert decoder.feed(line + b"\n") == [KeyReading("4")]
    assert decoder.feed(line + b" \n") == []
    assert decoder.ignored == 1


def test_a_reset_forgets_a_partial_line() -> None:
    decoder = LineDecoder()
    decoder.feed(b"HOOK O")

    decoder.reset()

    assert decoder.feed(b"FF\r\nKEY 1\r\n") == [KeyReading("1")]


@given(st.binary(max_size=512))
def test_no_bytes_make_the_decoder_fail(data: bytes) -> None:
    decoder = LineDecoder()

    readings = decoder.feed(data)

    assert all(isinstance(r, HookReading | KeyReading | Identification) for r in readings)


def test_parse_line_reads_one_line() -> None:
    assert parse_line(b"  HOOK ON  ") == HookReading(off_hook=False)
    assert parse_line(b"") is None


def test_lines_the_handset_sends_are_checked() -> None:
    with pytest.raises(ValueError, match="Expected one of 0 1 2"):
        key_line("A")
    with pytest.raises(ValueError, match="serial number"):
        id_line("has space")


def test_a_clean_change_settles_after_the_window() -> None:
    debouncer = HookDebouncer(0.030)

    debouncer.feed(True, now=10.000)

    assert debouncer.poll(10.029) is None
    assert debouncer.poll(10.030) is True
    assert debouncer.off_hook is True
    assert debouncer.poll(10.100) is None


def test_bouncing_within_the_window_settles_once() -> None:
    debouncer = HookDebouncer(0.030)

    debouncer.feed(True, now=1.000)
    debouncer.feed(False, now=1.005)
    debouncer.feed(True, now=1.010)

    assert debouncer.poll(1.035) is None  # the window restarted at the last movement
    assert debouncer.poll(1.040) is True
    assert debouncer.poll(2.000) is None


def test_a_position_held_past_the_window_settles_when_the_next_reading_comes() -> None:
    debouncer = HookDebouncer(0.030)
    debouncer.feed(True, now=1.000)

    assert debouncer.feed(False, now=1.050) is True  # read late, but it was lifted 50 ms
    assert debouncer.poll(1.080) is False


def test_a_bounce_back_to_the_start_is_no_change() -> None:
    debouncer = HookDebouncer(0.030)

    debouncer.feed(True, now=1.000)
    debouncer.feed(False, now=1.010)

    assert debouncer.poll(1.100) is None
    assert debouncer.off_hook is False


def test_repeating_the_pending_position_does_not_delay_it() -> None:
    debouncer = HookDebouncer(0.030)

    debouncer.feed(True, now=1.000)
    debouncer.feed(True, now=1.020)  # a status answer during the window

    assert debouncer.poll(1.030) is True


def test_a_repeated_settled_position_is_no_change() -> None:
    debouncer = HookDebouncer(0.030, off_hook=True)

    debouncer.feed(True, now=1.0)

    assert debouncer.deadline() is None
    assert debouncer.poll(5.0) is None


def test_settle_accepts_the_pending_position_at_once() -> None:
    debouncer = HookDebouncer(0.030)
    debouncer.feed(True, now=1.0)

    assert debouncer.settle() is True
    assert debouncer.settle() is None


def test_without_a_window_every_movement_counts() -> None:
    debouncer = HookDebouncer(0.0)

    debouncer.feed(True, now=1.0)
    assert debouncer.poll(1.0) is True
    debouncer.feed(False, now=1.0)
    assert debouncer.poll(1.0) is False


def test_reset_forgets_the_position() -> None:
    debouncer = HookDebouncer(0.030, off_hook=True)
    debouncer.feed(False, now=1.0)

    debouncer.reset()

    assert debouncer.off_hook is False
    assert debouncer.deadline() is None


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="Expected a window of 0 s or more, but got -1"):
        HookDebouncer(-1)
