"""``cabina demo``: a hub on SQLite with a demo office, its staff and a simulated cabin.

The data directory keeps the demo between runs (``demo-data/`` by default); the hub's secret
key is generated there on the first run, with permissions 0600. Once the hub answers, the demo
cabin starts as a child process (``cabina kiosk --simulate``, headless when there is no
display) with its data in ``<data dir>/cabin/``; its simulated handset is driven from the
command line through ``<data dir>/cabin/handset.sock``. The demo office is open at all hours,
unlike the office it imitates, so that whoever tries the demo can always call.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from cabina.cli import CommandError
from cabina.config import SettingsError, load_settings

logger = logging.getLogger(__name__)

#: The demo cabin offers one topic, so that lifting its handset calls at once, without a tap.
DEMO_CABIN_SERVICES = '["general"]'
#: How long a stopping cabin may take to end its visit and close before it is killed.
CABIN_STOP_S = 15.0
_PR_SET_PDEATHSIG = 1


class _Stop(Exception):
    """SIGTERM: stop the demo, cabin first."""


def _secret(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def has_display(environ: Mapping[str, str]) -> bool:
    """Whether a window can be opened (an X11 or Wayland display is set)."""
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def shown(path: Path) -> str:
    """``path`` as a person would type it here: relative to the current directory if inside."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def cabina_command() -> str:
    """How to run ``cabina`` from this installation (its script, or ``python -m cabina``)."""
    script = Path(sys.executable).with_name("cabina")
    return shown(script) if script.exists() else f"{sys.executable} -m cabina"


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec function that has Linux stop the child when the demo dies, however it dies."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    # Looked up here, in the parent: the child only makes the call between fork and exec.
    return lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class DemoCabin:
    """The demo's simulated cabin: ``cabina kiosk --simulate`` as a watched child process."""

    def __init__(
        self,
        data_dir: Path,
        *,
        hub_url: str,
        cabin_id: int,
        token: str,
        environ: Mapping[str, str],
        is_online: Callable[[], bool],
    ) -> None:
        self.data_dir = data_dir
        self.handset_socket = data_dir / "handset.sock"
        self.log_path = data_dir / "kiosk.log"
        self.headless = not has_display(environ)
        self._hub_url = hub_url
        self._cabin_id = cabin_id
        self._token = token
        self._environ = dict(environ)
        self._is_online = is_online
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def command(self) -> list[str]:
        """The kiosk's command line."""
        command = [sys.executable, "-m", "cabina", "kiosk", "--simulate"]
        command += ["--data-dir", str(self.data_dir), "--handset-socket", str(self.handset_socket)]
        command += ["--name", "Cabina demo", "--size", "1280x720"]
        return command + (["--headless"] if self.headless else ["--windowed"])

    def start_when(self, hub_ready: Callable[[], bool]) -> None:
        """Start the cabin from a background thread once ``hub_ready()``, then watch it."""
        self._thread = threading.Thread(
            target=self._run, args=(hub_ready,), name="demo-cabin", daemon=True
        )
        self._thread.start()

    def _say(self, text: str) -> None:
        print(f"demo cabin: {text}", flush=True)

    def _run(self, hub_ready: Callable[[], bool]) -> None:
        while not hub_ready():
            if self._stopping.wait(0.2):
                return
        from provisioning.credential import CabinCredential, write_credential

        write_credential(
            self.data_dir / "cabin-credential.json", CabinCredential(self._cabin_id, self._token)
        )
        env = self._environ | {
            "CABINA_KIOSK_HUB_URL": self._hub_url,
            "CABINA_KIOSK_SERVICES": DEMO_CABIN_SERVICES,
        }
        with self.log_path.open("wb") as log:
            # Its own session: a Ctrl+C in the terminal reaches the demo, which stops the cabin.
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        if self._stopping.is_set():  # stopped while it was being started
            self._process.terminate()
        self._say(f"starting (process {self._process.pid}), log in {shown(self.log_path)}")
        self._watch(self._process)

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        for waited in itertools.count():
            if process.poll() is not None or self._stopping.is_set():
                break
            if self._is_online():
                self._say("connected to the hub, ready for a call")
                break
            if waited == 120:  # half-seconds: a minute
                self._say(f"not connected to the hub after a minute: see {shown(self.log_path)}")
            self._stopping.wait(0.5)
        status = process.wait()
        if self._stopping.is_set():
            return
        # The hub goes on (the console works without the cabin), but the person must know.
        how = f"killed by {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"
        tail = deque(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines(), 15)
        print(
            f"demo cabin: stopped on its own ({how}); the hub goes on. "
            f"The end of {shown(self.log_path)}:",
            *(f"  | {line}" for line in tail),
            sep="\n",
            file=sys.stderr,
            flush=True,
        )

    def stop(self, timeout: float = CABIN_STOP_S) -> None:
        """Ask the cabin to end (SIGTERM, as systemd does), and kill it if it does not."""
        self._stopping.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("the demo cabin did not stop within %.0f s: killed", timeout)
                process.kill()
                process.wait()
            self._say("stopped")
        if self._thread is not None:
            self._thread.join(timeout)


def _banner(
    seed: Any,
    base: str,
    data_dir: Path,
    cabin: DemoCabin | None,
    hours: str,
    video: list[str] | None = None,
) -> list[str]:
    lines = [
        "",
        "Cabina demo",
        f"  hub:          {base}",
        f"  API docs:     {base}/docs",
        f"  console:      {base}/console/",
        f"  data:         {data_dir}",
        f"  office:       {hours}",
        "",
        "  accounts (user / password, role):",
    ]
    lines += [
        f"    {a.username:<11} {a.password:<17} {a.role.value}"
        + (f"  ({', '.join(a.languages)}; {', '.join(a.services)})" if a.services else "")
        for a in seed.accounts
    ]
    lines += ["", *(video or [])]
    lines += [f"  demo cabin {seed.cabin_id}: token {seed.cabin_token}"]
    if cabin is None:
        return [*lines, "  (not started: --no-cabin)", "", "Stop with Ctrl+C.", ""]
    where = "headless (no display)" if cabin.headless else "in a window"
    cabina, sock = cabina_command(), shown(cabin.handset_socket)
    agent = next(a for a in seed.accounts if a.username == "agent1")
    lines += [
        f"    simulated devices, {where}; starts once the hub answers",
        f"    data and log in {shown(cabin.data_dir)}",
        "",
        "  A call from the cabin to the console, without touching the cabin:",
        f"    1. open {base}/console/, sign in as {agent.username} "
        f"(password {agent.password}) and press 'Be available'",
        "    2. lift the cabin's handset; the cabin asks for an agent at once:",
        f"         {cabina} hardware handset lift --socket {sock}",
        f"    3. answer the call in the console as {agent.username}",
        "    4. hang up the handset:",
        f"         {cabina} hardware handset hang-up --socket {sock}",
        "",
        "Stop with Ctrl+C (the cabin stops too).",
        "",
    ]
    return lines


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from demo.video import PrintingSmsSender, banner_lines, book_video_visit
    from hub.app import create_app
    from hub.attention_log import AttentionLog
    from hub.db import Database
    from hub.demo_data import ALWAYS_OPEN, seed_demo
    from hub.padron.demo_residents import seed_demo_residents
    from hub.security import Passwords
    from hub.server import uvicorn_config
    from hub.services import services_of
    from hub.settings import HubSettings

    data_dir = Path(args.data_dir).resolve()
    try:
        settings = load_settings(
            HubSettings,
            None,
            {
                "data_dir": data_dir,
                "secret_key": _secret(data_dir),
                "host": args.host,
                "port": args.port,
                # The demo serves plain HTTP on this machine, so cookies cannot require HTTPS.
                "cookie_secure": False,
                "public_url": f"http://{args.host}:{args.port}",
                # No SMS gateway here: SMS notices are logged (their length only), not sent.
                "demo": True,
                "padron": {"sms_sender": "log"},
            },
        )
    except SettingsError as exc:
        raise CommandError(str(exc)) from exc

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise _Stop

    # uvicorn shuts down gracefully on SIGTERM, then raises it again: here it ends the demo.
    previous = signal.signal(signal.SIGTERM, on_term)
    database = Database.from_settings(settings)
    cabin: DemoCabin | None = None
    try:
        database.upgrade()
        seed = seed_demo(
            AttentionLog(database),
            Passwords(),
            now=datetime.now(UTC),
            opening_hours=ALWAYS_OPEN,
            appointments=True,
        )
        seed_demo_residents(database, today=datetime.now(UTC).date())
        base = f"http://{args.host}:{args.port}"
        app = create_app(settings, database=database, sms_sender=PrintingSmsSender())
        video = book_video_visit(app, seed.site_id, base, datetime.now(UTC).date())
        server = uvicorn.Server(uvicorn_config(app, settings))
        if not args.no_cabin:

            def online() -> bool:
                board = services_of(app).switchboard
                return bool(board.is_cabin_online(str(seed.cabin_id)))

            cabin = DemoCabin(
                data_dir / "cabin",
                hub_url=base,
                cabin_id=seed.cabin_id,
                token=seed.cabin_token,
                environ=os.environ,
                is_online=online,
            )
        hours = "open at all hours for the demo (the real office opens weekday mornings)"
        banner = _banner(seed, base, data_dir, cabin, hours, banner_lines(video))
        print("\n".join(banner), flush=True)
        if cabin is not None:
            cabin.start_when(lambda: bool(server.started))
        server.run()
    except _Stop:
        pass
    finally:
        if cabin is not None:
            cabin.stop()
        database.dispose()
        signal.signal(signal.SIGTERM, previous)
    return 0


def register(subparsers: Any) -> None:
    """Add ``cabina demo``."""
    demo = subparsers.add_parser(
        "demo",
        help="run a demo hub with a demo office, staff and a simulated cabin (SQLite)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--data-dir", default="demo-data", help="where the demo keeps its data")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-cabin", action="store_true", help="run the hub alone, no cabin")
    demo.set_defaults(func=_run, log_level=logging.INFO)
