"""The ``[hardware.receipt_printer]`` section of a cabin's configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Receipt printer backends; "simulator" is the network backend aimed at a running simulator.
RECEIPT_BACKENDS: tuple[str, ...] = ("usb", "serial", "network", "simulator")


def _usb_id(value: object) -> object:
    """Accept 1208, "1208", "0x04b8" or "04b8" (as ``lsusb`` prints it) for a USB id."""
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            number = int(text, 16)
        except ValueError:
            raise ValueError(
                f"Expected a USB id in hexadecimal such as 0x04b8, but got {value!r}"
            ) from None
        return number
    return value


class ReceiptPrinterConfig(BaseModel):
    """A receipt printer: ``backend`` and the options that backend reads."""

    model_config = ConfigDict(extra="forbid")

    backend: str
    required: bool = True
    profile: str = "default"  # a python-escpos capabilities profile, e.g. "TM-T88V"
    codepage: str | None = None  # None: the best code page the profile lists for Iberian text
    timeout: float = Field(default=5.0, gt=0)  # seconds per write or status answer
    # network and simulator
    host: str | None = None
    port: int = Field(default=9100, ge=1, le=65535)
    # serial
    serial_port: str | None = None
    baudrate: int = Field(default=9600, gt=0)
    dsrdtr: bool = True  # hardware flow control; False for RTS/CTS
    # usb
    vendor_id: int | None = Field(default=None, ge=0, le=0xFFFF)
    product_id: int | None = Field(default=None, ge=0, le=0xFFFF)
    in_ep: int | None = 0x82  # None: no IN endpoint, so no status read-back
    out_ep: int = 0x01

    _parse_ids = field_validator("vendor_id", "product_id", "in_ep", "out_ep", mode="before")(
        _usb_id
    )
