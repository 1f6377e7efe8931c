"""Running a Kivy scenario in its own process, for tests that must not share Kivy's window.

Kivy's window is one per process, and it must be set up before Kivy is imported; a test
process full of other tests is no place for it. So a UI test module keeps its scenarios as
plain ``async def`` functions and runs each with :func:`run_in_kivy`, which starts
``python -m kiosk.devtools.testing <module file> <function>``: a fresh interpreter that prepares
Kivy off screen, imports the module and awaits the function. Its assertion errors come back
as the child's output, so pytest shows them. This module imports no Kivy itself.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

#: Window size of the scenario's process, ``WIDTHxHEIGHT``.
SIZE_ENV = "CABINA_UI_SIZE"
#: A directory where each scenario's output is also appended to ``<function>.log``, for a test
#: suite that reads its processes' logs (for personal data, say); unset, it is only returned.
LOG_DIR_ENV = "CABINA_SCENARIO_LOG_DIR"
_TAIL_CHARS = 6000


class ScenarioFailed(AssertionError):
    """The scenario's process failed; the message holds the end of its output."""


def _command(module_file: str | Path, function: str) -> list[str]:
    return [sys.executable, "-m", "kiosk.devtools.testing", str(module_file), function]


def _environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    # The child imports what this process can (a test runner adds its own folders).
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    env.update(extra or {})
    return env


def _keep(function: str, output: str) -> None:
    directory = os.environ.get(LOG_DIR_ENV)
    if directory:
        with (Path(directory) / f"{function}.log").open("a", encoding="utf-8") as log:
            log.write(output)


def _check(function: str, returncode: int, output: str) -> str:
    _keep(function, output)
    if returncode != 0:
        raise ScenarioFailed(
            f"Expected scenario {function} to pass, but its process exited with {returncode}:\n"
            + output[-_TAIL_CHARS:]
        )
    return output


def run_in_kivy(
    module_file: str | Path,
    function: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 240.0,
) -> str:
    """Run ``function`` of ``module_file`` in a Kivy process; returns its output."""
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own module
        _command(module_file, function),
        env=_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return _check(function, done.returncode, done.stdout)


async def run_in_kivy_async(
    module_file: str | Path,
    function: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 240.0,
) -> str:
    """:func:`run_in_kivy` that lets this event loop run meanwhile (a hub, an agent …)."""
    process = await asyncio.create_subprocess_exec(
        *_command(module_file, function),
        env=_environment(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        raw, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise ScenarioFailed(f"Expected scenario {function} to end within {timeout_s} s") from None
    assert process.returncode is not None
    return _check(function, process.returncode, raw.decode("utf-8", "replace"))


def _size() -> tuple[int, int]:
    text = os.environ.get(SIZE_ENV, "1920x1080")
    width, _, height = text.partition("x")
    return int(width), int(height)


def main(argv: Sequence[str]) -> int:
    """The child: prepare Kivy off screen, import the module, await the scenario."""
    if len(argv) != 2:
        print("usage: python -m kiosk.devtools.testing MODULE_FILE FUNCTION", file=sys.stderr)
        return 2
    module_file, function = argv
    from kiosk.screens.display import DisplaySettings, prepare_kivy

    with tempfile.TemporaryDirectory(prefix="cabina-kivy-") as home:
        prepare_kivy(DisplaySettings(size=_size(), headless=True, kivy_home=Path(home)))
        spec = importlib.util.spec_from_file_location("cabina_ui_scenario", module_file)
        if spec is None or spec.loader is None:
            print(f"cannot import {module_file}", file=sys.stderr)
            return 2
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        try:
            asyncio.run(getattr(module, function)())
        except BaseException:
            traceback.print_exc()
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
