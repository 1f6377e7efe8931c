"""A minimal IPP/1.1 message encoder and decoder (RFC 8010), enough to print and follow a job.

Messages are ``version (2) · operation-id or status-code (2) · request-id (4)``, then attribute
groups (a delimiter tag byte each), each attribute ``value-tag · name-length · name ·
value-length · value``; an empty name adds a value to the previous attribute; ``end-of-
attributes-tag`` (0x03) closes the groups and the document data follows. Collections
(``begCollection`` … ``endCollection``, members named by ``memberAttrName``) are decoded into
dicts. Anything malformed raises :class:`IppDecodeError` rather than being guessed at.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Operations (RFC 8011 §5.4)
PRINT_JOB = 0x0002
CANCEL_JOB = 0x0008
GET_JOB_ATTRIBUTES = 0x0009
GET_PRINTER_ATTRIBUTES = 0x000B

# Delimiter tags
OPERATION = 0x01
JOB = 0x02
END = 0x03
PRINTER = 0x04
UNSUPPORTED = 0x05

# Value tags
INTEGER, BOOLEAN, ENUM = 0x21, 0x22, 0x23
OCTET_STRING, DATE_TIME, RESOLUTION, RANGE = 0x30, 0x31, 0x32, 0x33
BEG_COLLECTION, TEXT_LANG, NAME_LANG, END_COLLECTION = 0x34, 0x35, 0x36, 0x37
TEXT, NAME, KEYWORD, URI, URI_SCHEME = 0x41, 0x42, 0x44, 0x45, 0x46
CHARSET, LANGUAGE, MIME_TYPE, MEMBER_NAME = 0x47, 0x48, 0x49, 0x4A
_STRINGS = {TEXT, NAME, KEYWORD, URI, URI_SCHEME, CHARSET, LANGUAGE, MIME_TYPE, 0x40, 0x43}

#: Status codes whose names the driver reports (RFC 8011 §B).
STATUS_NAMES = {
    0x0000: "successful-ok",
    0x0001: "successful-ok-ignored-or-substituted-attributes",
    0x0002: "successful-ok-conflicting-attributes",
    0x0400: "client-error-bad-request",
    0x0401: "client-error-forbidden",
    0x0402: "client-error-not-authenticated",
    0x0403: "client-error-not-authorized",
    0x0404: "client-error-not-possible",
    0x0405: "client-error-timeout",
    0x0406: "client-error-not-found",
    0x0407: "client-error-gone",
    0x0408: "client-error-request-entity-too-large",
    0x040A: "client-error-document-format-not-supported",
    0x040B: "client-error-attributes-or-values-not-supported",
    0x0500: "server-error-internal-error",
    0x0501: "server-error-operation-not-supported",
    0x0503: "server-error-version-not-supported",
    0x0505: "server-error-temporary-error",
    0x0506: "server-error-not-accepting-jobs",
    0x0507: "server-error-busy",
    0x0508: "server-error-job-canceled",
}


class IppDecodeError(ValueError):
    """The bytes are not a well-formed IPP message."""


@dataclass(frozen=True, slots=True)
class Attr:
    """One attribute to encode: value tag, name and one or more values."""

    tag: int
    name: str
    values: tuple[Any, ...]

    @classmethod
    def of(cls, tag: int, name: str, *values: Any) -> Attr:
        """An attribute with ``values``."""
        return cls(tag, name, values)


@dataclass(frozen=True, slots=True)
class IppResponse:
    """A decoded IPP response: status, and the attribute groups by delimiter tag."""

    version: tuple[int, int]
    status_code: int
    request_id: int
    groups: tuple[tuple[int, dict[str, list[Any]]], ...] = field(default=())
    data: bytes = b""

    @property
    def ok(self) -> bool:
        """Whether the status is one of the successful-ok codes."""
        return self.status_code < 0x0100

    @property
    def status_name(self) -> str:
        """The status code's keyword, or its hex value."""
        return STATUS_NAMES.get(self.status_code, f"0x{self.status_code:04x}")

    def group(self, tag: int) -> dict[str, list[Any]]:
        """The first group with delimiter ``tag`` (empty if there is none)."""
        for group_tag, attrs in self.groups:
            if group_tag == tag:
                return attrs
        return {}

    def first(self, tag: int, name: str, default: Any = None) -> Any:
        """The first value of ``name`` in group ``tag``."""
        values = self.group(tag).get(name)
        return values[0] if values else default


def _encode_value(tag: int, value: Any) -> bytes:
    if tag in (INTEGER, ENUM):
        return struct.pack(">i", int(value))
    if tag == BOOLEAN:
        return b"\x01" if value else b"\x00"
    if tag in _STRINGS:
        return str(value).encode("utf-8")
    if tag == OCTET_STRING:
        return bytes(value)
    raise ValueError(f"Expected a value tag this encoder writes, but got 0x{tag:02x}")


def encode_request(
    operation: int,
    request_id: int,
    groups: Mapping[int, Iterable[Attr]],
    data: bytes = b"",
) -> bytes:
    """An IPP/1.1 request: ``groups`` maps delimiter tags to attributes, in that order."""
    out = bytearray(struct.pack(">BBHI", 1, 1, operation, request_id))
    for group_tag, attrs in groups.items():
        out.append(group_tag)
        for attr in attrs:
            for index, value in enumerate(attr.values):
                name = attr.name.encode("ascii") if index == 0 else b""
                encoded = _encode_value(attr.tag, value)
                out += struct.pack(">BH", attr.tag, len(name)) + name
                out += struct.pack(">H", len(encoded)) + encoded
    out.append(END)
    return bytes(out) + data


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise IppDecodeError(
                f"Expected {count} more byte(s) at offset {self.pos}, "
                f"but the message has {len(self.data) - self.pos}"
            )
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])


def _decode_value(tag: int, raw: bytes) -> Any:
    if tag in (INTEGER, ENUM):
        if len(raw) != 4:
            raise IppDecodeError(f"Expected a 4-byte integer, but got {len(raw)} byte(s)")
        return struct.unpack(">i", raw)[0]
    if tag == BOOLEAN:
        if len(raw) != 1:
            raise IppDecodeError(f"Expected a 1-byte boolean, but got {len(raw)} byte(s)")
        return raw != b"\x00"
    if tag == RANGE and len(raw) == 8:
        return struct.unpack(">ii", raw)
    if tag == RESOLUTION and len(raw) == 9:
        return struct.unpack(">iib", raw)
    if tag in (TEXT_LANG, NAME_LANG) and len(raw) >= 4:
        lang_len = struct.unpack(">H", raw[:2])[0]
        text_at = 2 + lang_len + 2
        return raw[text_at:].decode("utf-8", errors="replace")
    if tag in _STRINGS:
        return raw.decode("utf-8", errors="replace")
    if 0x10 <= tag <= 0x1F:  # out of band: unsupported, unknown, no-value
        return None
    return raw  # dateTime, octetString and tags this decoder does not interpret


def _collection(reader: _Reader, depth: int) -> dict[str, list[Any]]:
    if depth > 8:
        raise IppDecodeError("Expected collections nested at most 8 deep, but got deeper")
    members: dict[str, list[Any]] = {}
    current: str | None = None
    while True:
        tag = reader.u8()
        reader.take(reader.u16())  # member attributes carry their name as a value instead
        raw = reader.take(reader.u16())
        if tag == END_COLLECTION:
            return members
        if tag == MEMBER_NAME:
            current = raw.decode("utf-8", errors="replace")
            members.setdefault(current, [])
            continue
        if current is None:
            raise IppDecodeError("Expected memberAttrName before a collection value, but got none")
        value = _collection(reader, depth + 1) if tag == BEG_COLLECTION else _decode_value(tag, raw)
        members[current].append(value)


def decode_response(data: bytes) -> IppResponse:
    """Decode an IPP response; raises :class:`IppDecodeError` if ``data`` is not one."""
    reader = _Reader(data)
    major, minor = reader.u8(), reader.u8()
    if major not in (1, 2):
        raise IppDecodeError(f"Expected IPP version 1.x or 2.x, but got {major}.{minor}")
    status = reader.u16()
    request_id = int(struct.unpack(">I", reader.take(4))[0])
    groups: list[tuple[int, dict[str, list[Any]]]] = []
    attrs: dict[str, list[Any]] | None = None
    last: str | None = None
    while True:
        tag = reader.u8()
        if tag == END:
            break
        if tag < 0x10:
            attrs = {}
            groups.append((tag, attrs))
            last = None
            continue
        if attrs is None:
            raise IppDecodeError(f"Expected a group tag before attribute tag 0x{tag:02x}")
        name = reader.take(reader.u16()).decode("utf-8", errors="replace")
        raw = reader.take(reader.u16())
        value = _collection(reader, 1) if tag == BEG_COLLECTION else _decode_value(tag, raw)
        if name:
            last = name
            attrs.setdefault(name, []).append(value)
        elif last is None:
            raise IppDecodeError("Expected an attribute name before an additional value")
        else:
            attrs[last].append(value)
    return IppResponse((major, minor), status, request_id, tuple(groups), data[reader.pos :])
