"""The ``hid`` backend: hidapi opening, and the driver replaying recorded handset reports."""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path

import pytest

from hardware.errors import ConfigurationError, DeviceMissing
from hardware.handset import (
    HandsetConfig,
    HandsetDriver,
    HandsetEvent,
    Key,
    OffHook,
    OnHook,
    Replugged,
    Timing,
    Unplugged,
    open_handset,
)
from hardware.handset.hid_handset import HidLink, open_hid_device
from hardware.health import DeviceState

WAIT = 5.0
FAST = Timing(debounce=0.0, reconnect_min=0.01, reconnect_max=0.05, status_timeout=3.0)


# A headset-style handset: report 5 holds the hook switch, flash, redial and mute, then two
# keypad slots (index 1 = Phone Key 0 … 12 = Pound) so that two keys can be held at once.
HEADSET = bytes(
    [
        0x05, 0x0B,        # Usage Page (Telephony)
        0x09, 0x05,        # Usage (Headset)
        0xA1, 0x01,        # Collection (Application)
        0x85, 0x05,        #   Report ID (5)
        0x15, 0x00,        #   Logical Minimum (0)
        0x25, 0x01,        #   Logical Maximum (1)
        0x75, 0x01,        #   Report Size (1)
        0x95, 0x01,        #   Report Count (1)
        0x09, 0x20,        #   Usage (Hook Switch)
        0x81, 0x02,        #   Input (Data, Variable, Absolute)
        0x09, 0x21,        #   Usage (Flash)
        0x09, 0x24,        #   Usage (Redial)
        0x09, 0x2F,        #   Usage (Phone Mute)
        0x95, 0x03,        #   Report Count (3)
        0x81, 0x06,        #   Input (Data, Variable, Relative)
        0x75, 0x04,        #   Report Size (4)
        0x95, 0x01,        #   Report Count (1)
        0x81, 0x03,        #   Input (Constant): padding
        0x09, 0x06,        #   Usage (Telephony Key Pad)
        0xA1, 0x02,        #   Collection (Logical)
        0x19, 0xB0,        #     Usage Minimum (Phone Key 0)
        0x29, 0xBB,        #     Usage Maximum (Phone Key Pound)
        0x15, 0x01,        #     Logical Minimum (1)
        0x25, 0x0C,        #     Logical Maximum (12)
        0x75, 0x08,        #     Report Size (8)
        0x95, 0x02,        #     Report Count (2)
        0x81, 0x00,        #     Input (Data, Array, Absolute)
        0xC0,              #   End Collection
        0xC0,              # End Collection
    ]
)  # fmt: skip

# Volume buttons only: a HID device, but not a handset.
VOLUME_KNOB = bytes.fromhex("050c 0901 a101 1500 2501 09e9 09ea 7501 9502 8102 9506 8103 c0")


class RecordedHandset:
    """Plays recorded input reports as ``hid.device`` would, until it is pulled out."""

    def __init__(self, descriptor: bytes) -> None:
        self.descriptor = descriptor
        self.reports: deque[bytes] = deque()
        self.plugged = True
        self.closed = 0
        self._arrived = threading.Event()

    def send(self, *recorded: str) -> None:
        self.reports.extend(bytes.fromhex(r) for r in recorded)
        self._arrived.set()

    def read(self, max_length: int, timeout_ms: int = 0) -> list[int]:
        if not self.plugged:
            raise OSError("read error")
        if not self.reports:
            self._arrived.clear()
            self._arrived.wait(timeout_ms / 1000)
            return []
        return list(self.reports.popleft()[:max_length])

    def get_report_descriptor(self) -> list[int]:
        if not self.plugged:
            raise OSError("not connected")
        return list(self.descriptor)

    def close(self) -> None:
        self.closed += 1


def open_recorded(device: RecordedHandset) -> HandsetDriver:
    def opener() -> HidLink:
        if not device.plugged:
            raise DeviceMissing("recorded handset unplugged")
        return HidLink(device, name="recorded")

    driver = HandsetDriver(opener, backend="hid", timing=FAST)
    driver.start()
    return driver


def events(driver: HandsetDriver, count: int) -> list[HandsetEvent | None]:
    return [driver.next_event(WAIT) for _ in range(count)]


def test_recorded_reports_become_events() -> None:
    device = RecordedHandset(HEADSET)
    driver = open_recorded(device)
    try:
        device.send(
            "05 00 00 00",  # on hook
            "05 01 00 00",  # lifted
            "05 01 06 00",  # 5 down
            "05 01 00 00",  # 5 up
            "05 05 00 00",  # redial: nothing a cabin uses
            "05 01 02 03",  # 1 and 2 down together
            "05 01 0c 00",  # 1 and 2 up, pound down
            "05 01 0c 00",  # pound still down
            "05 00 00 00",  # hung up
        )

        assert events(driver, 6) == [OffHook(), Key("5"), Key("1"), Key("2"), Key("#"), OnHook()]
    finally:
        driver.close()
    assert device.closed == 1


def test_a_report_of_the_wrong_length_is_ignored_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    device = RecordedHandset(HEADSET)
    driver = open_recorded(device)
    try:
        device.send("05 01 00", "05 01 06 00 00", "07 01 00 00", "05 01 06 00")

        assert driver.next_event(WAIT) == OffHook()
        assert driver.next_event(WAIT) == Key("5")
        assert driver.self_test().counters["ignored"] == 3
        assert "Expected 3 data bytes in report 5, but got 2" in caplog.text
        assert "Expected one of report IDs 5, but got 7" in caplog.text
    finally:
        driver.close()


def test_the_self_test_answers_with_the_last_report() -> None:
    device = RecordedHandset(HEADSET)
    driver = open_recorded(device)
    try:
        device.send("05 01 00 00")
        assert driver.next_event(WAIT) == OffHook()

        health = driver.self_test()
        assert (health.state, health.backend) == (DeviceState.OK, "hid")
        assert driver.off_hook is True
    finally:
        driver.close()


def test_a_pulled_hid_handset_is_unplugged_then_replugged() -> None:
    device = RecordedHandset(HEADSET)
    driver = open_recorded(device)
    try:
        device.send("05 01 00 00")
        assert driver.next_event(WAIT) == OffHook()

        device.plugged = False
        assert driver.next_event(WAIT) == Unplugged()
        assert driver.self_test().state is DeviceState.MISSING

        device.plugged = True
        assert driver.next_event(WAIT) == Replugged()
        device.send("05 01 00 00")
        assert driver.next_event(WAIT) == OffHook()
    finally:
        driver.close()


def test_a_device_without_telephony_usages_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="Expected a telephony device"):
        open_recorded(RecordedHandset(VOLUME_KNOB))


def test_hidapi_reports_an_absent_handset_as_missing() -> None:
    with pytest.raises(DeviceMissing, match="Expected a USB HID handset 0b0e:fffe"):
        open_hid_device(0x0B0E, 0xFFFE, None)


def test_hidapi_reports_an_absent_hidraw_path_as_missing(tmp_path: Path) -> None:
    with pytest.raises(DeviceMissing, match="hidraw9"):
        open_hid_device(None, None, str(tmp_path / "hidraw9"))


def test_the_hid_backend_keeps_looking_for_an_absent_handset() -> None:
    config = HandsetConfig(backend="hid", vendor_id=0x0B0E, product_id=0xFFFE, reconnect_min_ms=20)
    handset = open_handset(config)
    try:
        assert handset.next_event(WAIT) == Unplugged()
        health = handset.self_test()
        assert (health.state, health.backend, health.last_error) == (
            DeviceState.MISSING,
            "hid",
            "missing",
        )
    finally:
        handset.close()
