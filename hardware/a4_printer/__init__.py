"""The cabin's A4 printer (IPP, or a CUPS queue): a protocol, its backends, and the factory.

::

    open_a4_printer(A4PrinterConfig)               backend: ipp | cups | simulator
        → A4Printer                                base.py: the protocol, A4Status, JobResult,
                                                   and what IPP printer states mean for us
            IppA4Printer                           ipp_backend.py: IPP/1.1 over httpx
                on IPP messages                    ipp_codec.py: encoder and decoder (RFC 8010)
            CupsA4Printer                          cups_backend.py: ``lp`` and ``lpstat``
    A4PrinterConfig, A4_BACKENDS                   config.py: [hardware.a4_printer]
    start_background() → IppSimulatorHandle        simulator.py: Debian's ippeveprinter

"simulator" means the IPP backend aimed at a simulator the caller started
(:func:`hardware.a4_printer.simulator.start_background`). Errors are those of
:mod:`hardware.errors`; opening never connects, so a missing printer shows in ``self_test()``.
"""

from __future__ import annotations

from hardware.a4_printer.base import A4Printer, A4Status, JobResult
from hardware.a4_printer.config import A4_BACKENDS, A4PrinterConfig
from hardware.errors import ConfigurationError

__all__ = [
    "A4_BACKENDS",
    "A4Printer",
    "A4PrinterConfig",
    "A4Status",
    "JobResult",
    "open_a4_printer",
]


def open_a4_printer(cfg: A4PrinterConfig) -> A4Printer:
    """The A4 printer ``cfg`` describes; it connects when first used."""
    if cfg.backend not in A4_BACKENDS:
        raise ConfigurationError(
            f"Expected an A4 printer backend ({', '.join(A4_BACKENDS)}), but got {cfg.backend!r}"
        )
    if cfg.backend == "cups":
        if not cfg.queue:
            raise ConfigurationError("Expected 'queue' for a CUPS A4 printer, but got none")
        from hardware.a4_printer.cups_backend import CupsA4Printer

        return CupsA4Printer(
            cfg.queue,
            server=cfg.server,
            job_timeout=cfg.job_timeout,
            request_timeout=cfg.request_timeout,
        )
    if not cfg.uri:
        raise ConfigurationError(f"Expected 'uri' for an {cfg.backend} A4 printer, but got none")
    from hardware.a4_printer.ipp_backend import IppA4Printer

    return IppA4Printer(
        cfg.uri,
        backend=cfg.backend,
        job_timeout=cfg.job_timeout,
        request_timeout=cfg.request_timeout,
        tls_verify=cfg.tls_verify,
    )
