"""The roles of the hub's staff, kept apart from the tables: the command line needs no database."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a person may do in the hub."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    TECHNICIAN = "technician"
