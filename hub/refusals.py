"""The refusals every route may answer, published in the hub's OpenAPI schema.

A route's own ``responses=`` declares what only it answers (a conflict, a gone code), with
:func:`refused`. What
follows from the route's shape is declared here, once, from its dependencies and parameters:

- 400 where it reads a body (a body that is not text cannot be parsed),
- 401 where it needs a signed-in person or a cabin (:mod:`hub.deps`),
- 403 where it needs a role (a :class:`hub.deps.RoleGuard`),
- 404 where its path names a resource (which may not exist).

Each is answered with a :class:`Refusal`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from pydantic import BaseModel

from hub.deps import RoleGuard, current_cabin, current_user, user_or_cabin

_SIGNED_IN: frozenset[Callable[..., Any]] = frozenset({current_user, current_cabin, user_or_cabin})


class Refusal(BaseModel):
    """Why a request was refused, in words a person can read."""

    detail: str


#: What each refusal a route declares with :func:`refused` means.
_MEANINGS = {
    403: "Not this caller's to see or do",
    404: "No such resource",
    409: "In conflict with the current state",
    410: "No longer valid",
    413: "The body is too large",
    415: "The body is not of an accepted type",
    429: "Too many tries: wait as Retry-After says",
}


def refused(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may answer ``codes`` with a :class:`Refusal`."""
    return {code: {"model": Refusal, "description": _MEANINGS[code]} for code in codes}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def refusals_of(route: APIRoute) -> dict[int, str]:
    """The refusals ``route`` may answer because of its shape, each with its description."""
    calls = list(_calls(route.dependant))
    refusals: dict[int, str] = {}
    if route.body_field is not None or "requestBody" in (route.openapi_extra or {}):
        refusals[400] = "The body cannot be parsed"
    if any(call in _SIGNED_IN for call in calls):
        refusals[401] = "No valid credential"
    if any(isinstance(call, RoleGuard) for call in calls):
        refusals[403] = "The caller's role may not do this"
    if route.dependant.path_params:
        refusals[404] = "No such resource"
    return refusals


def publish_refusals(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Make ``app``'s OpenAPI schema declare the refusals of every route of ``routers``.

    The routers are the ones ``app`` includes as they are, without nesting or a prefix; the
    schema is built on first use, as FastAPI builds it.
    """
    routes: list[APIRoute] = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                routes.append(route)
            elif not isinstance(route, APIWebSocketRoute):
                raise TypeError(f"Expected an HTTP or WebSocket route, but got {route!r}")
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()  # cached by FastAPI, and completed here in place
        ref = {"$ref": "#/components/schemas/Refusal"}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Refusal"] = Refusal.model_json_schema()
        for route in routes:
            if not route.include_in_schema:
                continue
            for method in route.methods or ():
                operation = schema["paths"][route.path_format][method.lower()]
                for code, description in refusals_of(route).items():
                    operation["responses"].setdefault(
                        str(code),
                        {
                            "description": description,
                            "content": {"application/json": {"schema": ref}},
                        },
                    )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
