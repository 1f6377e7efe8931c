"""Who asks the padrón service: a cabin for its own attention, or the agent serving one.

A cabin may act in an attention that is its own (or not yet known to the hub: the cabin's
outbox may be behind); an agent only in an open attention they answered.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from contract.events import actor_for_cabin, actor_for_user
from hub.models import Attention


class NotYourAttention(Exception):
    """The caller may not act in this attention."""


@dataclass(frozen=True, slots=True)
class Caller:
    """A cabin (``cabin_id``) or an agent (``agent_id``): exactly one of them is set."""

    cabin_id: int | None = None
    agent_id: int | None = None

    def __post_init__(self) -> None:
        if (self.cabin_id is None) == (self.agent_id is None):
            raise ValueError("Expected exactly one of cabin_id and agent_id, but got both or none")

    @property
    def channel(self) -> str:
        """``cabin`` (self-service) or ``agent`` (issued from the console)."""
        return "cabin" if self.cabin_id is not None else "agent"

    @property
    def actor(self) -> str:
        """The actor of the log events this caller causes."""
        if self.cabin_id is not None:
            return actor_for_cabin(self.cabin_id)
        assert self.agent_id is not None
        return actor_for_user(self.agent_id)

    @property
    def key(self) -> str:
        """What the per-caller rate limit counts under."""
        return str(self.cabin_id if self.cabin_id is not None else self.agent_id)

    def check_attention(self, session: Session, attention_id: str) -> Attention | None:
        """The attention if this caller may act in it; :class:`NotYourAttention` otherwise."""
        attention = session.get(Attention, attention_id)
        if self.cabin_id is not None:
            if attention is not None and attention.cabin_id not in (None, self.cabin_id):
                raise NotYourAttention(
                    f"Expected an attention of cabin {self.cabin_id}, "
                    f"but {attention_id} belongs to cabin {attention.cabin_id}"
                )
            return attention
        if attention is None or attention.agent_id != self.agent_id:
            raise NotYourAttention(
                f"Expected an attention that agent {self.agent_id} is serving, "
                f"but {attention_id} is not one"
            )
        if attention.closed_at is not None:
            raise NotYourAttention(f"Expected an open attention, but {attention_id} is closed")
        return attention
