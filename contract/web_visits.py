"""What the citizen's page and the hub say to each other over HTTP for a video visit from home.

The page (``/cita/v/<token>``) asks for a one-time code, identifies the citizen with it and
their DNI/NIE, and then speaks :mod:`contract.signalling` on ``/ws/citizen`` as sender
``citizen``. Refusals are :class:`WebRefusal`; ``docs/appointments.md`` (*A video call from
home*) lists each code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contract.languages import Language
from contract.signalling import IceServer

#: The cookie that holds a visit's session.
VISIT_COOKIE = "cabina_visit"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeRequest(_Model):
    """Send me a code (in my language, if given)."""

    language: Language | None = None


class CodeSent(_Model):
    """Where the code went: ``email``, ``sms`` or both."""

    channels: list[Literal["email", "sms"]]


class Identification(_Model):
    """The citizen's DNI/NIE and the code they received."""

    document: Annotated[str, Field(max_length=32)]
    code: Annotated[str, Field(max_length=16)]


class SurveyAnswer(_Model):
    """How satisfied the citizen was with the call, from 1 to 5."""

    satisfaction: Annotated[int, Field(ge=1, le=5)]


class Visit(_Model):
    """The citizen's visit: what the page needs to ask for the call (no personal data)."""

    attention_id: str
    call_id: str
    reference: str
    service: str
    #: The service's name in the visit's language.
    service_name: str
    language: str
    starts_at: datetime
    #: The end of the grace time: the visit cannot be joined after it.
    join_until: datetime
    ice_servers: list[IceServer]


class ServerTime(_Model):
    """The hub's clock: the page's network check."""

    server_time: datetime


class WebRefusal(_Model):
    """Why a request was refused: a ``code`` for the page, a ``message`` in English."""

    code: str
    message: str
    #: For ``rate_limited`` and ``locked_out``: when to try again.
    retry_after_s: int | None = None
    #: For ``too_early``: when the visit opens.
    opens_at: datetime | None = None
    #: For ``invalid_document``: what is wrong with it.
    reason: str | None = None
