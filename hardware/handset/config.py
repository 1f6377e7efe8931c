"""The ``[hardware.handset]`` section of a cabin's configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: The backends a cabin can name, and what each drives.
BACKENDS: dict[str, str] = {
    "serial": "a handset speaking ASCII lines on a serial port",
    "hid": "a USB HID telephony handset",
    "simulator": "the shipped simulated handset, on a pty",
}


class HandsetConfig(BaseModel):
    """Which handset the cabin has, and how to reach it."""

    model_config = ConfigDict(extra="forbid")

    backend: str = "serial"
    required: bool = True
    audio_device: str | None = None  # e.g. "plughw:CARD=Handset,DEV=0" or a PulseAudio sink
    debounce_ms: int = Field(default=30, ge=0, le=1000)
    reconnect_min_ms: int = Field(default=250, ge=10, le=60_000)
    reconnect_max_ms: int = Field(default=5000, ge=10, le=600_000)
    status_timeout_ms: int = Field(default=1000, ge=50, le=30_000)
    # serial
    port: str | None = None  # e.g. /dev/serial/by-id/usb-Cabina_Handset_HS1-if00
    baudrate: int = Field(default=9600, gt=0)
    # hid
    vendor_id: int | None = Field(default=None, ge=0, le=0xFFFF)
    product_id: int | None = Field(default=None, ge=0, le=0xFFFF)
    hid_path: str | None = None  # e.g. /dev/hidraw2; wins over vendor_id/product_id
    # simulator
    fault: Literal["unplugged", "silent"] | None = None
    control_socket: Path | None = None

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in BACKENDS:
            raise ValueError(f"Expected one of {', '.join(BACKENDS)}, but got {value!r}")
        return value

    @model_validator(mode="after")
    def _backend_options(self) -> HandsetConfig:
        if self.backend == "serial" and not self.port:
            raise ValueError("the serial backend needs 'port', e.g. /dev/ttyACM0")
        no_ids = self.vendor_id is None or self.product_id is None
        if self.backend == "hid" and self.hid_path is None and no_ids:
            raise ValueError("the hid backend needs 'hid_path', or 'vendor_id' and 'product_id'")
        if self.reconnect_max_ms < self.reconnect_min_ms:
            raise ValueError(
                f"Expected reconnect_max_ms of at least reconnect_min_ms "
                f"({self.reconnect_min_ms}), but got {self.reconnect_max_ms}"
            )
        return self
