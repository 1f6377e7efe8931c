"""Remote actions at the cabin: what each one does, and its report to the hub.

A technician asks on the fleet page; the hub sends ``{"type": "fleet.action", "action_id": …,
"kind": …}`` over the cabin's WebSocket. :class:`ActionRunner` is the action runner: given an
:class:`ActionRequest`, it does the work through the callables it was given (a self-test, a
screenshot, a restart) and reports the outcome over HTTP. The report says what happened in
device codes, never in personal data.

It knows nothing of the kiosk. In the running kiosk, :mod:`kiosk.remote_actions` is the glue
that receives the hub's message, calls :meth:`ActionRunner.run` off its event loop (a
self-test takes seconds) and supplies the kiosk's own self-test, screenshot and restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from provisioning.pinning import HubEndpoint
from provisioning.selftest import SelfTest, report

logger = logging.getLogger(__name__)

KINDS = ("restart_app", "self_test", "screenshot")


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One action the hub asked for."""

    action_id: str
    kind: str

    @classmethod
    def from_message(cls, message: Mapping[str, Any] | Any) -> ActionRequest:
        """From the ``fleet.action`` message, parsed (a model) or not (a dict)."""
        if isinstance(message, Mapping):
            return cls(str(message["action_id"]), str(message["kind"]))
        return cls(str(message.action_id), str(message.kind))


class ActionRunner:
    """Does remote actions for one cabin and tells the hub how they went."""

    def __init__(
        self,
        endpoint: HubEndpoint,
        token: str,
        *,
        selftest: Callable[[], SelfTest],
        screenshot: Callable[[], bytes],
        restart: Callable[[], None],
        timeout: float = 10.0,
    ) -> None:
        self._endpoint = endpoint
        self._token = token
        self._selftest = selftest
        self._screenshot = screenshot
        self._restart = restart
        self._timeout = timeout

    def run(self, request: ActionRequest) -> bool:
        """Do ``request``; whether the hub heard the outcome. ``restart_app`` restarts last."""
        logger.info("remote action %s: %s", request.action_id, request.kind)
        if request.kind == "self_test":
            return self._run_selftest(request)
        if request.kind == "screenshot":
            return self._run_screenshot(request)
        if request.kind == "restart_app":
            heard = self._result(request, ok=True, detail="restarting")
            self._restart()
            return heard
        return self._result(
            request,
            ok=False,
            detail=f"Expected an action among {', '.join(KINDS)}, but got {request.kind!r}",
        )

    def _run_selftest(self, request: ActionRequest) -> bool:
        try:
            selftest = self._selftest()
        except Exception as exc:  # the hub hears of it instead of the cabin stopping
            logger.exception("self-test failed to run")
            return self._result(
                request, ok=False, detail=f"self-test did not run: {type(exc).__name__}"
            )
        logger.info(report(self._endpoint, self._token, selftest, timeout=self._timeout))
        faults = [
            f"{row.device}: {row.error or row.state.value}"
            for row in selftest.results
            if row.failed
        ]
        return self._result(request, ok=selftest.ok, detail="; ".join(faults) or "all devices ok")

    def _run_screenshot(self, request: ActionRequest) -> bool:
        try:
            image = self._screenshot()
        except Exception as exc:  # no display, say: the hub hears of it
            logger.exception("screenshot failed")
            return self._result(request, ok=False, detail=f"no screenshot: {type(exc).__name__}")
        response = self._send(
            "PUT",
            f"/api/cabin/actions/{request.action_id}/screenshot",
            content=image,
            headers={"Content-Type": "image/png"},
        )
        return response is not None and response.status_code == 204

    def _result(self, request: ActionRequest, *, ok: bool, detail: str) -> bool:
        response = self._send(
            "POST",
            f"/api/cabin/actions/{request.action_id}/result",
            json={"status": "done" if ok else "failed", "detail": detail[:400]},
        )
        return response is not None and response.status_code == 204

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            with self._endpoint.client(token=self._token, timeout=self._timeout) as client:
                response = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            logger.warning("could not report action to the hub: %s", type(exc).__name__)
            return None
        if response.status_code >= 300:
            logger.warning("the hub refused the action report: HTTP %d", response.status_code)
        return response
