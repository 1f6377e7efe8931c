"""Every operation of the hub's published API, fuzzed with schemathesis, as every kind of caller.

Each caller (anonymous, each staff role, an enrolled cabin) gets a hub of its own, and every
operation of ``/openapi.json`` is sent schema-shaped and malformed requests in-process. The hub
must never answer with a server error, and every answer must be one the schema publishes: a
documented status code, and a body that matches its schema.

The quick profile runs in ``make test`` on SQLite; ``make fuzz`` sets ``CABINA_FUZZ_EXAMPLES``
for the long one, on SQLite and PostgreSQL. Runs are derandomized, so a failure comes back on
the next run. Every failing operation is reported, not only the first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from contract.events import EventKind
from hub.models import Cabin, LogEntry, Role, Site, User
from hub.routes.cabins import create_cabin
from hub.routes.users import create_user
from hub.security import create_cabin_credential, create_session
from hub.services import HubServices, services_of

#: Examples per operation and generation mode; ``make fuzz`` raises it.
EXAMPLES = int(os.environ.get("CABINA_FUZZ_EXAMPLES", "8"))
LONG = "CABINA_FUZZ_EXAMPLES" in os.environ

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

#: What every answer is checked for.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

CALLERS = ["anonymous", "admin", "supervisor", "agent", "technician", "cabin"]


@dataclass
class Caller:
    """Who sends the fuzzed requests: a fresh credential for each operation, or none."""

    name: str
    credential: Callable[[], str | None]

    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header of a fresh credential, if the caller has one."""
        token = self.credential()
        return {} if token is None else {"Authorization": f"Bearer {token}"}


def _seed(services: HubServices) -> tuple[dict[str, User], Cabin]:
    """A person of every role, a site and a cabin."""
    now = services.clock()
    users: dict[str, User] = {}
    for role in Role:
        user = create_user(
            services.attention_log,
            username=role.value,
            display_name=role.value.title(),
            password_hash=services.passwords.hash(f"{role.value}-password-1"),
            role=role,
            now=now,
            actor="hub",
            languages=["es", "ca"],
            services=["padron"],
        )
        assert user is not None
        users[role.value] = user
    site = Site(
        name="Ajuntament",
        address="Plaça Major 1",
        timezone="Europe/Madrid",
        opening_hours={},
        max_concurrent_calls=None,
        created_at=now,
    )
    with services.database.write_transaction() as session:
        session.add(site)
    cabin, _token = create_cabin(
        services.attention_log,
        name="Cabina 1",
        site_id=site.id,
        serial="SN-1",
        now=now,
        actor_id=users["admin"].id,
    )
    return users, cabin


def _caller(services: HubServices, name: str) -> Caller:
    users, cabin = _seed(services)
    database, clock = services.database, services.clock

    def session_of(user: User) -> Callable[[], str]:
        def new() -> str:
            with database.write_transaction() as session:
                token, _row = create_session(
                    session, user, now=clock(), lifetime=timedelta(hours=1)
                )
            return token

        return new

    if name == "anonymous":
        return Caller(name, lambda: None)
    if name == "cabin":
        with database.write_transaction() as session:
            token = create_cabin_credential(session, cabin, now=clock())
        return Caller(name, lambda: token)
    return Caller(name, session_of(users[name]))


@pytest.fixture(
    params=["sqlite", *([pytest.param("postgresql", marks=pytest.mark.postgres)] if LONG else [])]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL: SQLite, and PostgreSQL too in the long profile."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def fuzzed_app(app: FastAPI) -> Iterator[FastAPI]:
    """The hub app; schemathesis starts it in-process on the first request, and it stops after."""
    yield app
    asgi.shutdown_lifespans()


def _described(exc: BaseException) -> str:
    """An exception's message, with those of the exceptions it groups."""
    if isinstance(exc, BaseExceptionGroup):
        return "\n".join([str(exc), *(_described(inner) for inner in exc.exceptions)])
    return f"{type(exc).__name__}: {exc}"


def _last_seq(services: HubServices) -> int:
    with services.database.session() as session:
        return session.scalar(select(func.max(LogEntry.seq))) or 0


def _fuzz(operation: APIOperation, caller: Caller, mode: GenerationMode) -> None:
    """Send ``EXAMPLES`` generated requests to ``operation``; raise on the first bad answer."""
    headers = caller.headers()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize("caller_name", CALLERS)
def test_every_operation_answers_as_published(fuzzed_app: FastAPI, caller_name: str) -> None:
    """No server error and no answer outside the schema, for any operation, as ``caller``."""
    services = services_of(fuzzed_app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    caller = _caller(services, caller_name)
    before = _last_seq(services)
    failures: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if caller_name == "cabin" and not operation.path.startswith("/api/cabin/"):
            continue
        for mode in GenerationMode:
            try:
                _fuzz(operation, caller, mode)
            except Unsatisfiable:
                continue  # nothing of this operation can be malformed (no parameters, no body)
            except (Exception, FailureGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}): {_described(exc)}")
    assert not failures, "\n\n".join(failures)
    if caller_name == "anonymous":
        with services.database.session() as session:
            written = session.scalars(select(LogEntry.kind).where(LogEntry.seq > before)).all()
        assert set(written) <= {EventKind.AUDIT_LOGIN_FAILED.value}
