"""Reading USB HID telephony handsets: report descriptors in, hook switch and keypad out.

Only what a handset needs from the HID Usage Tables: the Telephony page (0x0B), its Hook
Switch (0x20) and Phone Key 0–9, Star and Pound (0xB0–0xBB), in variable (one bit per key)
or array (the pressed key's index) fields, with or without report IDs. Errors::

    DeviceIOError (hardware.errors)
    └── HidReportError               a descriptor or report that cannot be read
        ├── DescriptorError          malformed report descriptor
        └── ReportLengthError        a report of the wrong length, or an unknown report ID
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hardware.errors import DeviceIOError
from hardware.handset.events import KEYS
from hardware.handset.readings import HookReading, KeyReading, Reading

TELEPHONY_PAGE = 0x0B
HOOK_SWITCH = 0x20
PHONE_KEY_0 = 0xB0
PHONE_KEY_POUND = 0xBB

_HOOK = TELEPHONY_PAGE << 16 | HOOK_SWITCH
_KEY_USAGES = {TELEPHONY_PAGE << 16 | (PHONE_KEY_0 + i): key for i, key in enumerate(KEYS)}
_MAX_RANGE = 1024  # usages in one Usage Minimum/Maximum pair; more is a broken descriptor
_MAX_REPORT_BITS = 8 * 1024

# Item tags, as (type << 2 | tag << 4), i.e. the prefix byte without its size bits.
_INPUT, _OUTPUT, _FEATURE, _COLLECTION, _END_COLLECTION = 0x80, 0x90, 0xB0, 0xA0, 0xC0
_USAGE_PAGE, _LOGICAL_MIN, _LOGICAL_MAX = 0x04, 0x14, 0x24
_REPORT_SIZE, _REPORT_ID, _REPORT_COUNT, _PUSH, _POP = 0x74, 0x84, 0x94, 0xA4, 0xB4
_USAGE, _USAGE_MIN, _USAGE_MAX = 0x08, 0x18, 0x28
_LONG_ITEM = 0xFE


class HidReportError(DeviceIOError):
    """A report descriptor or report that cannot be read."""


class DescriptorError(HidReportError):
    """The report descriptor is malformed."""


class ReportLengthError(HidReportError):
    """A report has the wrong length for its report ID, or an ID the descriptor lacks."""


@dataclass(frozen=True, slots=True)
class InputField:
    """One Input main item: ``count`` elements of ``size`` bits at ``bit_offset``."""

    report_id: int  # 0 when the device does not number its reports
    bit_offset: int  # from the first data byte, after the report ID
    size: int
    count: int
    usages: tuple[int, ...]  # extended usages (page << 16 | id)
    logical_min: int
    logical_max: int
    is_array: bool
    is_constant: bool


@dataclass(frozen=True, slots=True)
class ReportLayout:
    """The input reports a descriptor declares."""

    fields: tuple[InputField, ...]
    lengths: Mapping[int, int]  # report ID → data bytes, without the ID byte
    numbered: bool  # reports start with their report ID

    def has_telephony(self) -> bool:
        """Whether any input field carries the hook switch or a phone key."""
        wanted = {_HOOK, *_KEY_USAGES}
        return any(wanted.intersection(f.usages) for f in self.fields if not f.is_constant)


@dataclass(frozen=True, slots=True)
class TelephonyReport:
    """What one input report says: the hook switch (None if absent) and the keys held down."""

    off_hook: bool | None
    keys: frozenset[str]


@dataclass
class _Globals:
    usage_page: int = 0
    logical_min: int = 0
    logical_max: int = 0
    report_size: int = 0
    report_count: int = 0
    report_id: int = 0

    def copy(self) -> _Globals:
        return _Globals(**vars(self))


def _unsigned(data: bytes) -> int:
    return int.from_bytes(data, "little", signed=False)


def _signed(data: bytes) -> int:
    return int.from_bytes(data, "little", signed=True) if data else 0


def _items(descriptor: bytes) -> list[tuple[int, int, bytes]]:
    """Split into (offset, prefix without size bits, data) short items, skipping long items."""
    items: list[tuple[int, int, bytes]] = []
    pos = 0
    while pos < len(descriptor):
        prefix = descriptor[pos]
        if prefix == _LONG_ITEM:
            if pos + 1 >= len(descriptor):
                raise DescriptorError(f"Expected a long item's size at offset {pos + 1}")
            end = pos + 3 + descriptor[pos + 1]
        else:
            end = pos + 1 + (0, 1, 2, 4)[prefix & 0x03]
        if end > len(descriptor):
            raise DescriptorError(
                f"Expected {end - pos - 1} data bytes after item 0x{prefix:02X} at offset "
                f"{pos}, but the descriptor ends after {len(descriptor) - pos - 1}"
            )
        if prefix != _LONG_ITEM:
            items.append((pos, prefix & 0xFC, descriptor[pos + 1 : end]))
        pos = end
    return items


def parse_descriptor(descriptor: bytes) -> ReportLayout:
    """The input fields of a HID report descriptor."""
    state = _Globals()
    stack: list[_Globals] = []
    usages: list[int] = []
    usage_min: int | None = None
    fields: list[InputField] = []
    bits: dict[int, int] = {}
    numbered = False
    for offset, tag, data in _items(descriptor):
        if tag == _USAGE_PAGE:
            state.usage_page = _unsigned(data)
        elif tag == _LOGICAL_MIN:
            state.logical_min = _signed(data)
        elif tag == _LOGICAL_MAX:
            state.logical_max = _signed(data)
        elif tag == _REPORT_SIZE:
            state.report_size = _unsigned(data)
        elif tag == _REPORT_COUNT:
            state.report_count = _unsigned(data)
        elif tag == _REPORT_ID:
            state.report_id = _unsigned(data)
            numbered = True
            if state.report_id == 0:
                raise DescriptorError(f"Expected a report ID of 1-255 at offset {offset}, got 0")
        elif tag == _PUSH:
            stack.append(state.copy())
        elif tag == _POP:
            if not stack:
                raise DescriptorError(f"Expected a Push before the Pop at offset {offset}")
            state = stack.pop()
        elif tag in (_USAGE, _USAGE_MIN, _USAGE_MAX):
            usage = _unsigned(data) if len(data) == 4 else state.usage_page << 16 | _unsigned(data)
            if tag == _USAGE:
                usages.append(usage)
            elif tag == _USAGE_MIN:
                usage_min = usage
            else:
                if usage_min is None or not 0 <= usage - usage_min < _MAX_RANGE:
                    raise DescriptorError(
                        f"Expected a Usage Minimum of at most 0x{usage:X} before the "
                        f"Usage Maximum at offset {offset}"
                    )
                usages.extend(range(usage_min, usage + 1))
                usage_min = None
        elif tag in (_INPUT, _OUTPUT, _FEATURE):
            size = state.report_size * state.report_count
            if tag == _INPUT:
                start = bits.get(state.report_id, 0)
                if start + size > _MAX_REPORT_BITS:
                    raise DescriptorError(
                        f"Expected reports of at most {_MAX_REPORT_BITS // 8} bytes, but report "
                        f"{state.report_id} grows beyond that at offset {offset}"
                    )
                flags = _unsigned(data)
                fields.append(
                    InputField(
                        report_id=state.report_id,
                        bit_offset=start,
                        size=state.report_size,
                        count=state.report_count,
                        usages=tuple(usages),
                        logical_min=state.logical_min,
                        logical_max=state.logical_max,
                        is_array=not flags & 0x02,
                        is_constant=bool(flags & 0x01),
                    )
                )
                bits[state.report_id] = start + size
            usages, usage_min = [], None
        elif tag in (_COLLECTION, _END_COLLECTION):
            usages, usage_min = [], None
    lengths = {report_id: (n + 7) // 8 for report_id, n in bits.items()}
    return ReportLayout(fields=tuple(fields), lengths=lengths, numbered=numbered)


def _field_values(field: InputField, data: int) -> list[int]:
    mask = (1 << field.size) - 1
    values = []
    for i in range(field.count):
        raw = data >> (field.bit_offset + i * field.size) & mask
        if field.logical_min < 0 and raw >> (field.size - 1):
            raw -= 1 << field.size  # sign-extend: the field holds two's complement
        values.append(raw)
    return values


def _asserted(field: InputField, data: int) -> set[int]:
    found: set[int] = set()
    for i, value in enumerate(_field_values(field, data)):
        if field.is_array:
            index = value - field.logical_min
            if field.logical_min <= value <= field.logical_max and index < len(field.usages):
                found.add(field.usages[index])
        elif value and field.usages:
            found.add(field.usages[min(i, len(field.usages) - 1)])
    return found


def decode_report(layout: ReportLayout, report: bytes) -> TelephonyReport | None:
    """What an input report says, or None when it carries no telephony usage."""
    if layout.numbered:
        if not report:
            raise ReportLengthError("Expected a report ID, but got an empty report")
        report_id, payload = report[0], report[1:]
    else:
        report_id, payload = 0, report
    expected = layout.lengths.get(report_id)
    if expected is None:
        known = ", ".join(str(i) for i in sorted(layout.lengths)) or "none"
        raise ReportLengthError(f"Expected one of report IDs {known}, but got {report_id}")
    if len(payload) != expected:
        raise ReportLengthError(
            f"Expected {expected} data bytes in report {report_id}, but got {len(payload)}"
        )
    data = int.from_bytes(payload, "little")
    off_hook: bool | None = None
    keys: set[str] = set()
    relevant = False
    for field in layout.fields:
        if field.report_id != report_id or field.is_constant:
            continue
        if _HOOK in field.usages:
            relevant = True
            off_hook = False
        if _KEY_USAGES.keys() & set(field.usages):
            relevant = True
        for usage in _asserted(field, data):
            if usage == _HOOK:
                off_hook = True
            elif usage in _KEY_USAGES:
                keys.add(_KEY_USAGES[usage])
    return TelephonyReport(off_hook, frozenset(keys)) if relevant else None


class TelephonyTracker:
    """Turns successive input reports into readings: hook movements and newly pressed keys."""

    def __init__(self, layout: ReportLayout) -> None:
        self._layout = layout
        self._off_hook: bool | None = None
        self._held: frozenset[str] = frozenset()

    @property
    def off_hook(self) -> bool:
        """The hook position of the last report that carried it (on hook before any)."""
        return bool(self._off_hook)

    def update(self, report: bytes) -> list[Reading]:
        """The readings one raw input report brings; raises :class:`HidReportError`."""
        decoded = decode_report(self._layout, report)
        if decoded is None:
            return []
        readings: list[Reading] = []
        if decoded.off_hook is not None and decoded.off_hook != self._off_hook:
            self._off_hook = decoded.off_hook
            readings.append(HookReading(decoded.off_hook))
        pressed = decoded.keys - self._held
        readings.extend(KeyReading(key) for key in KEYS if key in pressed)
        self._held = decoded.keys
        return readings
