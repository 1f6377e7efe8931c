"""What the steps' work raises: one error with a short code for the agent and the flow.

A device's failure is a :class:`hardware.errors.HardwareError` and keeps its own code; the
rest (the hub refused an upload, a document that is not a PDF, a page that does not exist) is
a :class:`StepError`.
"""

from __future__ import annotations

__all__ = ["StepError"]


class StepError(Exception):
    """A step could not be done; ``code`` is what the agent and the flow are told."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
