"""The IPP/1.1 encoder and decoder, on messages built byte by byte from RFC 8010."""

from __future__ import annotations

import struct

import pytest

from hardware.a4_printer import ipp_codec
from hardware.a4_printer.ipp_codec import Attr, IppDecodeError, decode_response, encode_request


def attr(tag: int, name: str, value: bytes) -> bytes:
    return (
        struct.pack(">BH", tag, len(name)) + name.encode() + struct.pack(">H", len(value)) + value
    )


def response(status: int, request_id: int, body: bytes) -> bytes:
    return struct.pack(">BBHI", 1, 1, status, request_id) + body + b"\x03"


def test_a_request_is_encoded_as_rfc_8010_lays_it_out() -> None:
    data = encode_request(
        ipp_codec.GET_PRINTER_ATTRIBUTES,
        7,
        {
            ipp_codec.OPERATION: [
                Attr.of(ipp_codec.CHARSET, "attributes-charset", "utf-8"),
                Attr.of(ipp_codec.KEYWORD, "requested-attributes", "printer-state", "printer-name"),
                Attr.of(ipp_codec.INTEGER, "job-id", 42),
                Attr.of(ipp_codec.BOOLEAN, "last-document", True),
            ]
        },
        b"%PDF-",
    )
    expected = (
        b"\x01\x01\x00\x0b\x00\x00\x00\x07\x01"
        + attr(0x47, "attributes-charset", b"utf-8")
        + attr(0x44, "requested-attributes", b"printer-state")
        + attr(0x44, "", b"printer-name")
        + attr(0x21, "job-id", b"\x00\x00\x00\x2a")
        + attr(0x22, "last-document", b"\x01")
        + b"\x03%PDF-"
    )
    assert data == expected


def test_a_response_with_several_groups_values_and_a_collection_decodes() -> None:
    body = (
        b"\x01"
        + attr(0x47, "attributes-charset", b"utf-8")
        + b"\x04"
        + attr(0x23, "printer-state", b"\x00\x00\x00\x05")
        + attr(0x44, "printer-state-reasons", b"media-empty-error")
        + attr(0x44, "", b"cover-open-report")
        + attr(0x22, "printer-is-accepting-jobs", b"\x00")
        + attr(0x35, "printer-info", b"\x00\x02ca\x00\x07Oficina")
        + attr(0x33, "copies-supported", struct.pack(">ii", 1, 99))
        + attr(0x13, "printer-location", b"")
        + attr(0x34, "media-col-default", b"")
        + attr(0x4A, "", b"media-size")
        + attr(0x34, "", b"")
        + attr(0x4A, "", b"x-dimension")
        + attr(0x21, "", b"\x00\x00\x52\x08")
        + attr(0x37, "", b"")
        + attr(0x4A, "", b"media-source")
        + attr(0x44, "", b"main")
        + attr(0x37, "", b"")
    )
    decoded = decode_response(response(0x0000, 3, body) + b"trailing document")
    assert decoded.ok and decoded.status_name == "successful-ok" and decoded.request_id == 3
    printer = decoded.group(ipp_codec.PRINTER)
    assert printer["printer-state"] == [5]
    assert printer["printer-state-reasons"] == ["media-empty-error", "cover-open-report"]
    assert printer["printer-is-accepting-jobs"] == [False]
    assert printer["printer-info"] == ["Oficina"]
    assert printer["copies-supported"] == [(1, 99)]
    assert printer["printer-location"] == [None]
    assert printer["media-col-default"] == [
        {"media-size": [{"x-dimension": [21000]}], "media-source": ["main"]}
    ]
    assert decoded.data == b"trailing document"
    assert decoded.first(ipp_codec.JOB, "job-id", "none") == "none"


def test_an_error_status_is_named() -> None:
    decoded = decode_response(response(0x040A, 1, b"\x01"))
    assert not decoded.ok
    assert decoded.status_name == "client-error-document-format-not-supported"
    assert decode_response(response(0x0599, 1, b"")).status_name == "0x0599"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Expected 1 more byte"),
        (b"<html><body>Not IPP</body></html>", "IPP version"),
        (b"HTTP/1.1 200 OK\r\n\r\n", "IPP version"),
        (struct.pack(">BBHI", 1, 1, 0, 1) + b"\x01" + b"\x44\x00\x05abc", "more byte"),
        (struct.pack(">BBHI", 1, 1, 0, 1) + attr(0x44, "x", b"y") + b"\x03", "group tag"),
        (struct.pack(">BBHI", 1, 1, 0, 1) + b"\x01" + attr(0x44, "", b"y") + b"\x03", "name"),
        (struct.pack(">BBHI", 1, 1, 0, 1) + b"\x04" + attr(0x21, "n", b"\x01") + b"\x03", "4-byte"),
        (struct.pack(">BBHI", 1, 1, 0, 1) + b"\x01", "more byte"),
        (
            struct.pack(">BBHI", 1, 1, 0, 1)
            + b"\x04"
            + attr(0x34, "c", b"")
            + attr(0x44, "", b"v"),
            "memberAttrName",
        ),
    ],
    ids=[
        "empty",
        "html",
        "http",
        "truncated",
        "no-group",
        "orphan-value",
        "short-int",
        "no-end",
        "bad-collection",
    ],
)
def test_malformed_messages_raise_a_decode_error(data: bytes, message: str) -> None:
    with pytest.raises(IppDecodeError, match=message):
        decode_response(data)


def test_collections_nested_too_deep_are_refused() -> None:
    deep = b"".join(attr(0x4A, "", b"m") + attr(0x34, "", b"") for _ in range(12))
    data = struct.pack(">BBHI", 1, 1, 0, 1) + b"\x04" + attr(0x34, "c", b"") + deep
    with pytest.raises(IppDecodeError, match="nested"):
        decode_response(data)
