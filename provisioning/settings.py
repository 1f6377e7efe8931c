"""The part of a cabin's settings file that provisioning reads: where its data is, its devices.

The kiosk's own settings (:class:`kiosk.settings.KioskSettings`) extend these, so both read the
same file and the same ``CABINA_KIOSK_*`` variables, and each field is declared once.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hardware.config import HardwareConfig


class CabinLocalSettings(BaseSettings):
    """Where the cabin keeps its data, and its devices; the kiosk's settings are ignored here."""

    model_config = SettingsConfigDict(
        env_prefix="CABINA_KIOSK_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    data_dir: Path = Path("data/kiosk")
    hardware: HardwareConfig = Field(default_factory=HardwareConfig)
