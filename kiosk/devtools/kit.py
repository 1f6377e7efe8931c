"""A kiosk app ready to drive: for UI tests, benchmarks and screenshots.

:func:`kiosk_app` runs the real app and the real command runner over whatever parts are
given (none: a kiosk with no hub and no devices, whose commands are only recorded), and
hands back a :class:`Kit` to touch it with.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from hardware.check import CheckResult
from kiosk.devtools.driver import UiDriver, running_app
from kiosk.effects.runner import CommandRunner, Parts
from kiosk.flow import Event, Flow, FlowConfig, HubLink
from kiosk.screens.app import KioskApp

#: The technician PIN of the flows made here.
TEST_PIN = "2468"


@dataclass
class Kit:
    """A running kiosk and the means to drive and watch it."""

    app: KioskApp
    driver: UiDriver
    runner: CommandRunner

    @property
    def flow(self) -> Flow:
        """The flow the app shows."""
        return self.app.flow

    @property
    def commands(self) -> list[str]:
        """The names of the commands run so far, in order."""
        return self.runner.history

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to the flow as a device or the hub would."""
        self.app.send(event)


def sample_flow(config: FlowConfig | None = None, *, online: bool = True) -> Flow:
    """A flow with predictable ids and :data:`TEST_PIN`; the hub counts as reachable."""
    ids = itertools.count(1)
    flow = Flow(
        config
        or FlowConfig(services=("general", "padron", "tributs"), complaint_service="general"),
        new_id=lambda: f"00000000-0000-4000-8000-{next(ids):012d}",
        verify_pin=lambda typed: typed == TEST_PIN,
    )
    if online:
        flow.dispatch(HubLink(online=True))
    return flow


@contextlib.asynccontextmanager
async def kiosk_app(
    flow: Flow | None = None,
    parts: Parts | None = None,
    *,
    cabin_name: str = "Cabina de proves",
    check_results: Sequence[CheckResult] = (),
    warm_up: bool = False,
) -> AsyncIterator[Kit]:
    """Run the kiosk app over ``flow`` and ``parts`` while the block runs."""
    runner: CommandRunner | None = None

    async def check() -> Sequence[CheckResult]:
        return check_results

    app = KioskApp(
        flow or sample_flow(),
        execute=lambda command: runner(command) if runner is not None else None,
        cabin_name=cabin_name,
        hardware_check=check,
        warm_up=warm_up,
    )
    runner = CommandRunner(parts or Parts(), deliver=app.send, view=app)
    try:
        async with running_app(app) as driver:
            yield Kit(app, driver, runner)
    finally:
        await runner.close()
