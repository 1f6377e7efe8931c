"""What the hub serves to cabins: who it is, each cabin's configuration, and their reports.

::

    GET  /api/hub                                   anyone: "this is a Cabina hub", its version
    GET  /api/cabin/config                          a cabin: its name, site (address, hours)
                                                    and kiosk settings
    POST /api/cabin/status                          software version and start time
    POST /api/cabin/selftest                        the result of a self-test
    POST /api/cabin/actions/{action_id}/result      how a remote action went
    PUT  /api/cabin/actions/{action_id}/screenshot  the PNG a ``screenshot`` action took

Except ``/api/hub``, each needs the cabin's own credential; a cabin reports only on itself
and its own actions. A cabin's attention events go to ``/api/cabin/events``
(:mod:`hub.routes.attentions`); enrolling is :mod:`hub.enrolment`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from cabina import __version__
from contract.cabin import CabinConfig, CabinSettings, Named, SiteConfig
from contract.discovery import HubIdentity
from hub.deps import ClockDep, CurrentCabin, DatabaseDep, SessionDep, SettingsDep
from hub.fleet import service as fleet
from hub.fleet.models import ActionKind, CabinProfile, FleetAction
from hub.fleet.service import profile_of
from hub.models import Site
from hub.refusals import refused

logger = logging.getLogger(__name__)

#: The largest screenshot a cabin may upload.
MAX_SCREENSHOT_BYTES = 8 * 1024 * 1024
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
Version = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9.+_-]+$")]


class StatusIn(BaseModel):
    """A cabin's account of its software."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    started_at: datetime


class SelfTestIn(BaseModel):
    """A cabin's self-test: one ``hardware.check.CheckResult.to_json`` per device."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    results: Annotated[list[dict[str, Any]], Field(max_length=16)]


class ResultIn(BaseModel):
    """How an action went at the cabin."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["done", "failed"]
    detail: Annotated[str, Field(max_length=400)] | None = None


def build_router() -> APIRouter:
    """The routes cabins call."""
    router = APIRouter(prefix="/api", tags=["cabins"])

    @router.get("/hub")
    def identity(settings: SettingsDep) -> HubIdentity:
        """This hub: a cabin checks the answer before it trusts the address."""
        return HubIdentity(version=__version__, public_url=settings.public_url)

    @router.get("/cabin/config", response_model_exclude_none=True)
    def cabin_config(
        cabin: CurrentCabin, session: SessionDep, settings: SettingsDep, clock: ClockDep
    ) -> CabinConfig:
        """The calling cabin's configuration: who it is, where, and its kiosk settings."""
        site = session.get(Site, cabin.site_id)
        assert site is not None  # a foreign key
        profile = session.get(CabinProfile, cabin.id)
        return CabinConfig(
            cabin=Named(id=cabin.id, name=cabin.name),
            site=SiteConfig(
                id=site.id,
                name=site.name,
                address=site.address,
                timezone=site.timezone,
                opening_hours=site.opening_hours,
            ),
            hub_version=__version__,
            heartbeat_interval_s=settings.heartbeat_interval_s,
            settings=CabinSettings.model_validate(profile.settings if profile is not None else {}),
            issued_at=clock(),
        )

    @router.post("/cabin/status", status_code=status.HTTP_204_NO_CONTENT)
    def report_status(
        body: StatusIn, cabin: CurrentCabin, database: DatabaseDep, clock: ClockDep
    ) -> None:
        """The calling cabin's software version and when it started."""
        with database.write_transaction() as session:
            profile = profile_of(session, cabin.id)
            profile.software_version = body.version
            profile.started_at = body.started_at
            profile.reported_at = clock()

    @router.post("/cabin/selftest", status_code=status.HTTP_204_NO_CONTENT)
    def report_selftest(
        body: SelfTestIn, cabin: CurrentCabin, database: DatabaseDep, clock: ClockDep
    ) -> None:
        """The calling cabin's self-test."""
        with database.write_transaction() as session:
            profile = profile_of(session, cabin.id)
            profile.selftest = body.results
            profile.selftest_ok = body.ok
            profile.selftest_at = clock()
        logger.info("cabin %d self-test: %s", cabin.id, "ok" if body.ok else "failed")

    @router.post(
        "/cabin/actions/{action_id}/result",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=refused(409),
    )
    def report_result(
        action_id: str, body: ResultIn, cabin: CurrentCabin, database: DatabaseDep, clock: ClockDep
    ) -> None:
        """How an action went."""
        done = fleet.finish(
            database,
            action_id,
            cabin_id=cabin.id,
            ok=body.status == "done",
            detail=body.detail,
            now=clock(),
        )
        if done is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"Expected a pending action of this cabin, but {action_id!r} is not one",
            )

    @router.put(
        "/cabin/actions/{action_id}/screenshot",
        status_code=status.HTTP_204_NO_CONTENT,
        max_body_size=MAX_SCREENSHOT_BYTES,
        responses=refused(409, 413, 415),
    )
    async def upload_screenshot(
        action_id: str,
        request: Request,
        cabin: CurrentCabin,
        database: DatabaseDep,
        settings: SettingsDep,
        clock: ClockDep,
    ) -> None:
        """The PNG a ``screenshot`` action took, as the raw request body."""
        body = await request.body()
        if not body.startswith(_PNG_MAGIC):
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                detail="Expected a PNG image, but the body does not start like one",
            )
        with database.session() as session:
            action = session.get(FleetAction, action_id)
            if action is None or action.cabin_id != cabin.id:
                raise HTTPException(
                    status.HTTP_404_NOT_FOUND, detail=f"No action {action_id!r} for this cabin"
                )
            if action.kind is not ActionKind.SCREENSHOT:
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    detail=f"Expected a screenshot action, but {action_id} is {action.kind.value}",
                )
        name = f"{action_id}.png"
        folder: Path = settings.data_dir / "screenshots"
        await run_in_threadpool(_save, folder, name, body)
        done = fleet.finish(
            database,
            action_id,
            cabin_id=cabin.id,
            ok=True,
            detail=f"{len(body)} bytes",
            now=clock(),
            screenshot=name,
        )
        if done is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"Expected a pending action of this cabin, but {action_id!r} is over",
            )

    return router


def _save(folder: Path, name: str, body: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(body)
    tmp.replace(folder / name)
