"""What a cabin can do in a call now, from its latest telemetry: its tools that work.

A step needs one device (:data:`contract.signalling.STEP_DEVICES`); when the cabin's last
telemetry shows that device in fault or missing, the step is *unavailable* and the reason is
the device's problem (``missing``, ``paper_out``, ``jammed`` …). The switchboard tells the agent
(``cabin.tools``) and refuses their ``step.request`` for it before it reaches the cabin, so the
citizen is never asked to wait for a scanner that is not there.

A device the telemetry does not mention is taken as working: a cabin that has not reported yet
is not held back, and the cabin's own step then reports whatever goes wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from contract import signalling as p

_DOWN = frozenset({"fault", "missing"})
_CODE = re.compile(r"[a-z0-9_.-]{1,40}")

#: The error code of a ``step.request`` refused because the cabin's device does not work.
UNAVAILABLE = "device_unavailable"


def device_problem(row: Mapping[str, Any]) -> str | None:
    """What is wrong with a telemetry row's device, or None when it can work."""
    state = row.get("state")
    if state not in _DOWN:
        return None
    error = row.get("last_error")
    # The cabin wrote it: only a well-formed code is passed on to the agent.
    if isinstance(error, str) and _CODE.fullmatch(error):
        return error
    if row.get("paper") == "out":
        return "paper_out"
    return str(state)


def unavailable_steps(devices: Sequence[Mapping[str, Any]] | None) -> dict[p.StepKind, str]:
    """Step kind → the reason it cannot be done now, for each step whose device is down."""
    problems: dict[str, str] = {}
    for row in devices or ():
        problem = device_problem(row)
        if problem is not None:
            problems[str(row.get("device"))] = problem
    return {kind: problems[device] for kind, device in p.STEP_DEVICES.items() if device in problems}


def refuse_unavailable(message: p.StepRequest, devices: Sequence[Mapping[str, Any]] | None) -> None:
    """Raise a :class:`~contract.signalling.ProtocolError` if ``message`` needs a device down."""
    reason = unavailable_steps(devices).get(message.kind)
    if reason is None:
        return
    device = p.STEP_DEVICES[message.kind]
    raise p.ProtocolError(
        UNAVAILABLE,
        f"Expected the cabin's {device} to work for {message.kind}, but it reports {reason}",
        message.ref,
    )


def tools_message(call_id: str, devices: Sequence[Mapping[str, Any]] | None) -> p.CabinTools:
    """The ``cabin.tools`` message for a call at a cabin with this telemetry."""
    return p.CabinTools(call_id=call_id, unavailable=unavailable_steps(devices))
