"""A local control socket for the simulated handset, so a demo or a technician can drive it.

One command per connection, as an ASCII line; the answer is one line, ``ok …`` or
``error …``::

    lift | hang-up | press <k> | bounce | garbage | unplug | replug | status

``cabina hardware handset <command> --socket PATH`` is the command-line client.
"""

from __future__ import annotations

import logging
import os
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path

from hardware.errors import DeviceMissing
from hardware.handset.simulator import HandsetSimulator

logger = logging.getLogger(__name__)

COMMANDS: tuple[str, ...] = (
    "lift",
    "hang-up",
    "press",
    "bounce",
    "garbage",
    "unplug",
    "replug",
    "status",
)
_MAX_COMMAND = 64


def apply_command(simulator: HandsetSimulator, command: str) -> str:
    """Carry out one control command on ``simulator``; the answer line, without newline."""
    words = command.split()
    name, args = (words[0], words[1:]) if words else ("", [])
    actions: dict[str, Callable[[], None]] = {
        "lift": simulator.lift,
        "hang-up": simulator.hang_up,
        "bounce": simulator.bounce,
        "garbage": simulator.send_garbage,
        "unplug": simulator.unplug,
        "replug": simulator.replug,
        "status": lambda: None,
    }
    if name == "press" and len(args) == 1:
        try:
            simulator.press(args[0])
        except ValueError as exc:
            return f"error {exc}"
    elif name in actions and not args:
        actions[name]()
    else:
        known = ", ".join(COMMANDS)
        return f"error Expected one of {known} (press takes a key), but got {command!r}"
    hook = "off-hook" if simulator.off_hook else "on-hook"
    plug = "plugged" if simulator.plugged else "unplugged"
    return f"ok {hook} {plug}"


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        raw = self.rfile.readline(_MAX_COMMAND + 1)
        try:
            command = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            answer = "error Expected an ASCII command"
        else:
            answer = apply_command(self.server.simulator, command)
        self.wfile.write(answer.encode("ascii", "replace") + b"\n")


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, simulator: HandsetSimulator) -> None:
        self.simulator = simulator
        super().__init__(str(path), _Handler)


class ControlServer:
    """Serves control commands for a simulator on a Unix socket, from a background thread."""

    def __init__(self, simulator: HandsetSimulator, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # a stale socket from a previous run
        self._server = _Server(path, simulator)
        os.chmod(path, 0o600)  # only the cabin's own user may lift the handset
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="handset-control", daemon=True
        )
        self._thread.start()
        logger.info("Simulated handset control socket at %s", path)

    def close(self) -> None:
        """Stop serving and remove the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self.path.unlink(missing_ok=True)


def send_command(path: Path, command: str, timeout: float = 5.0) -> str:
    """Send one command to a control socket; its answer line."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(command.encode("ascii") + b"\n")
            with sock.makefile("rb") as answer:
                return answer.readline(256).decode("ascii", "replace").strip()
    except (OSError, UnicodeEncodeError) as exc:
        raise DeviceMissing(
            f"Expected a simulated handset's control socket at {path}, but: {exc}",
            device="handset",
        ) from exc
