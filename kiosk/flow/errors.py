"""What :meth:`kiosk.flow.Flow.dispatch` raises. ::

    FlowError               the flow refused an event and is unchanged
    ├── TransitionRefused   a citizen event in a state that does not accept it
    └── InvalidChoice       a value the flow cannot take (also a ValueError)
    UnhandledEvent          an object with no entry in the flow's handler table (a TypeError)

A :class:`FlowError` is the citizen's doing (a second tap on a screen that is leaving) and the
kiosk logs and drops it; an :class:`UnhandledEvent` is a wiring mistake, so it is not one.
"""

from __future__ import annotations

from kiosk.flow.states import State

__all__ = ["FlowError", "InvalidChoice", "TransitionRefused", "UnhandledEvent"]


class FlowError(Exception):
    """The flow refused an event."""


class TransitionRefused(FlowError):
    """A citizen event arrived in a state that does not accept it."""

    def __init__(self, state: State, event: object, accepted_in: frozenset[State]) -> None:
        allowed = ", ".join(sorted(s.value for s in accepted_in)) or "no state"
        super().__init__(
            f"Refused transition: expected {type(event).__name__} in {allowed}, "
            f"but the flow is in {state.value}"
        )
        self.state = state
        self.event = event


class InvalidChoice(FlowError, ValueError):
    """An event carried a value the flow cannot take (unknown language, disabled entry …)."""


class UnhandledEvent(TypeError):
    """An object the flow has no handler for: neither one of its events nor a hub message."""

    def __init__(self, event: object) -> None:
        super().__init__(f"Expected an event the flow handles, but got {type(event).__name__}")
        self.event = event
