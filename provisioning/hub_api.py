"""The technician's side of the hub's API: sign in, approve a code, revoke a cabin, list the fleet.

``cabina provision approve`` and ``revoke`` go through the hub's HTTP API with the technician's
own account (an API token in ``$CABINA_HUB_TOKEN``, or a username and password), never
through its database: they work from the cabin, from a laptop or from the hub host alike, and
the audit log names the person who did it.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from provisioning.errors import EnrolmentFailed, ProvisioningError
from provisioning.pinning import HubEndpoint, unreachable

logger = logging.getLogger(__name__)


class StaffClient:
    """A signed-in technician (or admin) talking to one hub."""

    def __init__(self, endpoint: HubEndpoint, token: str, *, timeout: float = 15.0) -> None:
        self.endpoint = endpoint
        self._token = token
        self._timeout = timeout

    @classmethod
    def sign_in(
        cls, endpoint: HubEndpoint, username: str, password: str, *, timeout: float = 15.0
    ) -> StaffClient:
        """Sign in with a username and password."""
        with endpoint.client(timeout=timeout) as client:
            try:
                response = client.post(
                    "/api/auth/login", json={"username": username, "password": password}
                )
            except httpx.HTTPError as exc:
                raise unreachable(endpoint, exc) from exc
        if response.status_code != 200:
            raise ProvisioningError(
                f"Expected to sign in as {username!r}, but the hub answered HTTP "
                f"{response.status_code}: {_detail(response)}"
            )
        return cls(endpoint, str(response.json()["token"]), timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            with self.endpoint.client(token=self._token, timeout=self._timeout) as client:
                response = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise unreachable(self.endpoint, exc) from exc
        if response.status_code in (401, 403):
            raise ProvisioningError(
                f"Expected a technician's or admin's session, but the hub answered HTTP "
                f"{response.status_code}: {_detail(response)}"
            )
        return response

    def approve(self, code: str, *, site: int | str, name: str) -> dict[str, Any]:
        """Approve the code a cabin shows; the hub's answer (cabin id, new or re-enrolled)."""
        response = self._call(
            "POST", "/api/enrolment/approvals", json={"code": code, "site": site, "name": name}
        )
        if response.status_code != 201:
            raise EnrolmentFailed(_detail(response))
        data: dict[str, Any] = response.json()
        return data

    def fleet(self) -> list[dict[str, Any]]:
        """Every cabin's health."""
        response = self._call("GET", "/api/fleet/cabins")
        if response.status_code != 200:
            raise ProvisioningError(f"Expected the fleet, but got HTTP {response.status_code}")
        data: list[dict[str, Any]] = response.json()
        return data

    def cabin_id(self, cabin: str) -> int:
        """The id of a cabin given by id or by its exact name."""
        if cabin.isdigit():
            return int(cabin)
        matches = [row for row in self.fleet() if row.get("name") == cabin]
        if len(matches) != 1:
            raise ProvisioningError(
                f"Expected one cabin named {cabin!r}, but found {len(matches)}: give its id"
            )
        return int(matches[0]["id"])

    def revoke(self, cabin: str) -> dict[str, Any]:
        """Revoke a cabin's credentials and disconnect it."""
        cabin_id = self.cabin_id(cabin)
        response = self._call("POST", f"/api/fleet/cabins/{cabin_id}/revoke")
        if response.status_code != 200:
            raise ProvisioningError(
                f"Expected to revoke cabin {cabin_id}, but the hub answered HTTP "
                f"{response.status_code}: {_detail(response)}"
            )
        data: dict[str, Any] = response.json()
        data["cabin_id"] = cabin_id
        return data


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or f"HTTP {response.status_code}"
    if isinstance(data, dict):
        detail = data.get("detail")
        if isinstance(detail, str):
            return detail
        message = data.get("message")
        if isinstance(message, str):
            return message
    return response.text[:200]
