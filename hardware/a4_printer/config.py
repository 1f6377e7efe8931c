"""The ``[hardware.a4_printer]`` section of a cabin's configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: A4 printer backends; "simulator" is the IPP backend aimed at a running ippeveprinter.
A4_BACKENDS: tuple[str, ...] = ("ipp", "cups", "simulator")


class A4PrinterConfig(BaseModel):
    """An A4 printer: ``backend`` and the options that backend reads."""

    model_config = ConfigDict(extra="forbid")

    backend: str
    required: bool = True
    job_timeout: float = Field(default=120.0, gt=0)  # seconds for a job to finish
    request_timeout: float = Field(default=10.0, gt=0)  # seconds per IPP request or command
    # ipp and simulator
    uri: str | None = None  # e.g. ipp://192.168.1.20/ipp/print
    tls_verify: bool = True  # ipps:// only
    # cups
    queue: str | None = None
    server: str | None = None  # host[:port] of the CUPS server; None: the local one
