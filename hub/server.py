"""Running the hub under uvicorn: in the foreground (``cabina hub``) or in a background thread.

The background form serves the end-to-end tests and the benchmarks, which need a real hub on a
real port inside their own process.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn

from hub.settings import HubSettings

#: Seconds the hub gets to finish open requests when asked to stop.
GRACEFUL_S = 5


def uvicorn_config(app: Any, settings: HubSettings, **extra: Any) -> uvicorn.Config:
    """uvicorn's configuration for the hub: limits on WebSocket frames and no access log."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        # Frames up to four times the limit reach the app, which answers with a typed error
        # before closing; larger ones are cut by the server without reading them.
        "ws_max_size": settings.max_message_bytes * 4,
        "ws_ping_interval": None,  # the application heartbeat in the protocol does this job
        "access_log": False,
        "log_config": None,
        "timeout_graceful_shutdown": GRACEFUL_S,
        "lifespan": "on",
        # Signalling frames are small JSON: compressing them saves little, and each
        # connection's zlib state costs ~40 KB, which halves how many clients a hub holds.
        "ws_per_message_deflate": False,
        "ssl_certfile": settings.tls_certificate,
        "ssl_keyfile": settings.tls_key,
    }
    return uvicorn.Config(app, **(options | extra))


class BackgroundHub:
    """A hub serving on a loopback port from a thread of its own."""

    def __init__(self, settings: HubSettings, app: Any | None = None) -> None:
        if app is None:
            from hub.app import create_app

            app = create_app(settings)
        self.app = app
        self.settings = settings
        # IPPROTO_TCP spelled out: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose
        # protocol says TCP, and with Nagle on, every reply after a connection's first waited
        # ~40 ms for the client's delayed ACK between its header and body segments.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((settings.host, settings.port))
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn_config(app, settings))
        self._thread = threading.Thread(target=self._run, name=f"hub-{self.port}", daemon=True)
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.settings.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://host:port``."""
        return f"ws://{self.settings.host}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # reported to whoever waits in start()
            self._error = exc

    def start(self, timeout: float = 30.0) -> BackgroundHub:
        """Start serving; returns once the hub accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the hub did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the hub did not start within {timeout} s")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (open connections are closed)."""
        self._server.should_exit = True
        self._thread.join(GRACEFUL_S + 5)
        self._socket.close()

    def kill(self) -> None:
        """Stop at once, as a crash would: no graceful shutdown of connections."""
        self._server.force_exit = True
        self._server.should_exit = True
        self._thread.join(GRACEFUL_S + 5)
        self._socket.close()

    def __enter__(self) -> BackgroundHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
