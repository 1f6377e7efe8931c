"""The catalogue: services a citizen can ask for, and the topics and outcomes of wrap-up."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from hub.deps import SessionDep, UserOrCabin
from hub.models import Outcome, Service, Topic


class CatalogItem(BaseModel):
    """A code and its name in each language."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    names: dict[str, str]


class TopicItem(CatalogItem):
    """A wrap-up topic, perhaps of one service."""

    service: str | None = None


class Catalog(BaseModel):
    """Services a citizen can ask for, and the topics and outcomes of wrap-up."""

    services: list[CatalogItem]
    topics: list[TopicItem]
    outcomes: list[CatalogItem]


def build_router() -> APIRouter:
    """The catalogue of services, topics and outcomes."""
    router = APIRouter(prefix="/api", tags=["catalog"])

    @router.get("/catalog")
    def catalog(session: SessionDep, _caller: UserOrCabin) -> Catalog:
        """Active services, topics and outcomes, with their names in each language."""
        services = list(
            session.scalars(select(Service).where(Service.active.is_(True)).order_by(Service.code))
        )
        codes = {service.id: service.code for service in services}
        topics = session.scalars(select(Topic).where(Topic.active.is_(True)).order_by(Topic.code))
        outcomes = session.scalars(
            select(Outcome).where(Outcome.active.is_(True)).order_by(Outcome.code)
        )
        return Catalog(
            services=[CatalogItem.model_validate(service) for service in services],
            topics=[
                TopicItem(
                    code=topic.code, names=topic.names, service=codes.get(topic.service_id or 0)
                )
                for topic in topics
            ],
            outcomes=[CatalogItem.model_validate(outcome) for outcome in outcomes],
        )

    return router
