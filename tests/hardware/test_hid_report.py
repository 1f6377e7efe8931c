"""Parsing HID report descriptors and reports of telephony handsets, from recorded bytes.

The descriptors follow the HID Usage Tables (Telephony page 0x0B) as handsets on the market
declare them: one numbers its reports and sends the key as an array index, next to a
consumer-control volume report and an LED output report; the other sends one bit per key.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.errors import DeviceIOError
from hardware.handset.hid_report import (
    DescriptorError,
    HidReportError,
    ReportLengthError,
    TelephonyReport,
    TelephonyTracker,
    decode_report,
    parse_descriptor,
)
from hardware.handset.readings import HookReading, KeyReading

# A handset with numbered reports: 1 = volume buttons, 2 = hook, mute and keypad, 3 = LEDs.
NUMBERED = bytes(
    [
        0x05, 0x0B,        # Usage Page (Telephony)
        0x09, 0x04,        # Usage (Handset)
        0xA1, 0x01,        # Collection (Application)
        0x85, 0x02,        #   Report ID (2)
        0x15, 0x00,        #   Logical Minimum (0)
        0x25, 0x01,        #   Logical Maximum (1)
        0x09, 0x20,        #   Usage (Hook Switch)
        0x09, 0x2F,        #   Usage (Phone Mute)
        0x75, 0x01,        #   Report Size (1)
        0x95, 0x02,        #   Report Count (2)
        0x81, 0x22,        #   Input (Data, Variable, Absolute, No Preferred State)
        0x09, 0x06,        #   Usage (Telephony Key Pad)
        0xA1, 0x02,        #   Collection (Logical)
        0x19, 0xB0,        #     Usage Minimum (Phone Key 0)
        0x29, 0xBB,        #     Usage Maximum (Phone Key Pound)
        0x15, 0x01,        #     Logical Minimum (1)
        0x25, 0x0C,        #     Logical Maximum (12)
        0x75, 0x04,        #     Report Size (4)
        0x95, 0x01,        #     Report Count (1)
        0x81, 0x00,        #     Input (Data, Array, Absolute)
        0xC0,              #   End Collection
        0x75, 0x02,        #   Report Size (2)
        0x81, 0x03,        #   Input (Constant, Variable): padding
        0x85, 0x03,        #   Report ID (3)
        0x05, 0x08,        #   Usage Page (LEDs)
        0x09, 0x17,        #   Usage (Off-Hook)
        0x09, 0x09,        #   Usage (Mute)
        0x09, 0x18,        #   Usage (Ring)
        0x15, 0x00,        #   Logical Minimum (0)
        0x25, 0x01,        #   Logical Maximum (1)
        0x75, 0x01,        #   Report Size (1)
        0x95, 0x03,        #   Report Count (3)
        0x91, 0x22,        #   Output (Data, Variable, Absolute, No Preferred State)
        0x95, 0x05,        #   Report Count (5)
        0x91, 0x03,        #   Output (Constant): padding
        0xC0,              # End Collection
        0x05, 0x0C,        # Usage Page (Consumer)
        0x09, 0x01,        # Usage (Consumer Control)
        0xA1, 0x01,        # Collection (Application)
        0x85, 0x01,        #   Report ID (1)
        0x09, 0xE9,        #   Usage (Volume Increment)
        0x09, 0xEA,        #   Usage (Volume Decrement)
        0x95, 0x02,        #   Report Count (2)
        0x81, 0x02,        #   Input (Data, Variable, Absolute)
        0x95, 0x06,        #   Report Count (6)
        0x81, 0x03,        #   Input (Constant): padding
        0xC0,              # End Collection
    ]
)  # fmt: skip

# A handset without report IDs: a hook bit, then one bit per key, 0 to pound (3 bytes).
BITMAP = bytes(
    [
        0x05, 0x0B,        # Usage Page (Telephony)
        0x09, 0x01,        # Usage (Phone)
        0xA1, 0x01,        # Collection (Application)
        0x15, 0x00,        #   Logical Minimum (0)
        0x25, 0x01,        #   Logical Maximum (1)
        0x75, 0x01,        #   Report Size (1)
        0x0B, 0x20, 0x00, 0x0B, 0x00,  # Usage (Telephony: Hook Switch), as an extended usage
        0x95, 0x01,        #   Report Count (1)
        0x81, 0x06,        #   Input (Data, Variable, Relative)
        0x95, 0x07,        #   Report Count (7)
        0x81, 0x01,        #   Input (Constant, Array): padding
        0x09, 0x06,        #   Usage (Telephony Key Pad)
        0xA1, 0x02,        #   Collection (Logical)
        0x19, 0xB0,        #     Usage Minimum (Phone Key 0)
        0x29, 0xBB,        #     Usage Maximum (Phone Key Pound)
        0x95, 0x0C,        #     Report Count (12)
        0x81, 0x02,        #     Input (Data, Variable, Absolute)
        0xC0,              #   End Collection
        0x95, 0x04,        #   Report Count (4)
        0x81, 0x01,        #   Input (Constant): padding
        0xC0,              # End Collection
    ]
)  # fmt: skip

# A USB mouse: buttons and signed X/Y, nothing a handset has.
MOUSE = bytes(
    [
        0x05, 0x01, 0x09, 0x02, 0xA1, 0x01, 0x09, 0x01, 0xA1, 0x00,
        0x05, 0x09, 0x19, 0x01, 0x29, 0x03, 0x15, 0x00, 0x25, 0x01,
        0x95, 0x03, 0x75, 0x01, 0x81, 0x02, 0x95, 0x01, 0x75, 0x05, 0x81, 0x03,
        0x05, 0x01, 0x09, 0x30, 0x09, 0x31, 0x15, 0x81, 0x25, 0x7F,
        0x75, 0x08, 0x95, 0x02, 0x81, 0x06, 0xC0, 0xC0,
    ]
)  # fmt: skip


def report(off_hook: bool | None, *keys: str) -> TelephonyReport:
    return TelephonyReport(off_hook, frozenset(keys))


def test_the_numbered_layout() -> None:
    layout = parse_descriptor(NUMBERED)

    assert layout.numbered is True
    assert dict(layout.lengths) == {1: 1, 2: 1}  # report 3 is output only
    assert layout.has_telephony()
    keypad = next(f for f in layout.fields if f.is_array)
    assert (keypad.report_id, keypad.bit_offset, keypad.size) == (2, 2, 4)
    assert keypad.usages == tuple(0x0B0000 | u for u in range(0xB0, 0xBC))


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ("02 00", report(False)),
        ("02 01", report(True)),
        ("02 03", report(True)),  # lifted and muted
        ("02 05", report(True, "0")),  # index 1 is Phone Key 0
        ("02 19", report(True, "5")),  # index 6
        ("02 2d", report(True, "*")),  # index 11
        ("02 31", report(True, "#")),  # index 12
        ("02 01", report(True)),
        ("02 3d", report(True)),  # index 15 is out of range: no key
    ],
)
def test_numbered_reports(recorded: str, expected: TelephonyReport) -> None:
    layout = parse_descriptor(NUMBERED)

    assert decode_report(layout, bytes.fromhex(recorded)) == expected


def test_a_volume_report_carries_no_telephony() -> None:
    layout = parse_descriptor(NUMBERED)

    assert decode_report(layout, bytes.fromhex("01 01")) is None


def test_the_bitmap_layout() -> None:
    layout = parse_descriptor(BITMAP)

    assert layout.numbered is False
    assert dict(layout.lengths) == {0: 3}
    assert layout.has_telephony()


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ("00 00 00", report(False)),
        ("01 00 00", report(True)),
        ("01 01 00", report(True, "0")),
        ("01 20 00", report(True, "5")),
        ("01 00 02", report(True, "9")),
        ("01 00 04", report(True, "*")),
        ("01 00 08", report(True, "#")),
        ("01 06 00", report(True, "1", "2")),
        ("fe 00 f0", report(False)),  # padding bits set: ignored
    ],
)
def test_bitmap_reports(recorded: str, expected: TelephonyReport) -> None:
    layout = parse_descriptor(BITMAP)

    assert decode_report(layout, bytes.fromhex(recorded)) == expected


@pytest.mark.parametrize(
    ("descriptor", "recorded", "message"),
    [
        (NUMBERED, "02", "Expected 1 data bytes in report 2, but got 0"),
        (NUMBERED, "02 01 00", "Expected 1 data bytes in report 2, but got 2"),
        (NUMBERED, "07 01", "Expected one of report IDs 1, 2, but got 7"),
        (NUMBERED, "03 01", "Expected one of report IDs 1, 2, but got 3"),
        (NUMBERED, "", "Expected a report ID, but got an empty report"),
        (BITMAP, "01 00", "Expected 3 data bytes in report 0, but got 2"),
        (BITMAP, "01 00 00 00", "Expected 3 data bytes in report 0, but got 4"),
    ],
)
def test_reports_of_the_wrong_length_are_typed_errors(
    descriptor: bytes, recorded: str, message: str
) -> None:
    layout = parse_descriptor(descriptor)

    with pytest.raises(ReportLengthError, match=message) as caught:
        decode_report(layout, bytes.fromhex(recorded))

    assert isinstance(caught.value, DeviceIOError)
    assert caught.value.code == "io"


def test_a_mouse_is_not_a_handset() -> None:
    layout = parse_descriptor(MOUSE)

    assert not layout.has_telephony()
    assert dict(layout.lengths) == {0: 3}
    assert decode_report(layout, bytes.fromhex("01 ff 7f")) is None


def test_push_and_pop_restore_the_globals() -> None:
    descriptor = bytes(
        [
            0x05, 0x0B, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x01,
            0xA4,              # Push
            0x75, 0x07, 0x81, 0x01,  # 7 bits of padding
            0xB4,              # Pop: back to 1 bit, count 1
            0x09, 0x20, 0x81, 0x02,  # Hook Switch at bit 7
        ]
    )  # fmt: skip
    layout = parse_descriptor(descriptor)

    assert dict(layout.lengths) == {0: 1}
    assert decode_report(layout, b"\x80") == report(True)
    assert decode_report(layout, b"\x7f") == report(False)


def test_long_items_are_skipped() -> None:
    long_item = bytes([0xFE, 0x02, 0x10, 0xAA, 0xBB])
    layout = parse_descriptor(long_item + BITMAP)

    assert decode_report(layout, bytes.fromhex("01 20 00")) == report(True, "5")


@pytest.mark.parametrize(
    ("descriptor", "message"),
    [
        (b"\x05", "Expected 1 data bytes after item 0x05 at offset 0"),
        (b"\x05\x0b\x0b\x20\x00", "Expected 4 data bytes after item 0x0B at offset 2"),
        (b"\xb4", "Expected a Push before the Pop at offset 0"),
        (b"\x85\x00", "Expected a report ID of 1-255 at offset 0"),
        (b"\x29\xbb", "Expected a Usage Minimum"),
        (b"\x19\xbb\x29\xb0", "Expected a Usage Minimum of at most 0xB0"),
        (b"\xfe", "Expected a long item's size"),
        (b"\x75\xff\x96\x00\x01\x81\x02", "Expected reports of at most 1024 bytes"),
    ],
)
def test_malformed_descriptors_are_typed_errors(descriptor: bytes, message: str) -> None:
    with pytest.raises(DescriptorError, match=message):
        parse_descriptor(descriptor)


def test_the_tracker_reports_movements_and_new_key_presses() -> None:
    tracker = TelephonyTracker(parse_descriptor(NUMBERED))
    recorded = ["02 00", "02 01", "02 19", "02 19", "02 01", "02 19", "01 01", "02 31", "02 00"]

    readings = [reading for r in recorded for reading in tracker.update(bytes.fromhex(r))]

    assert readings == [
        HookReading(off_hook=False),
        HookReading(off_hook=True),
        KeyReading("5"),  # held across two reports: one press
        KeyReading("5"),  # released, then pressed again
        KeyReading("#"),
        HookReading(off_hook=False),
    ]
    assert tracker.off_hook is False


def test_the_tracker_reports_keys_pressed_together_in_keypad_order() -> None:
    tracker = TelephonyTracker(parse_descriptor(BITMAP))

    assert tracker.update(bytes.fromhex("01 06 08")) == [
        HookReading(off_hook=True),
        KeyReading("1"),
        KeyReading("2"),
        KeyReading("#"),
    ]


def test_the_tracker_passes_length_errors_on() -> None:
    tracker = TelephonyTracker(parse_descriptor(BITMAP))

    with pytest.raises(ReportLengthError):
        tracker.update(b"\x01")


@given(st.binary(max_size=200))
def test_no_descriptor_bytes_crash_the_parser(data: bytes) -> None:
    with contextlib.suppress(DescriptorError):
        parse_descriptor(data)


@given(st.binary(max_size=8))
def test_no_report_bytes_crash_the_decoder(data: bytes) -> None:
    for descriptor in (NUMBERED, BITMAP):
        with contextlib.suppress(HidReportError):
            decode_report(parse_descriptor(descriptor), data)
